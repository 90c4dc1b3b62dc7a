package mem_test

import (
	"context"
	"errors"
	"testing"

	"github.com/quercus-dev/quercus/kv"
	"github.com/quercus-dev/quercus/kv/kvtest"
	"github.com/quercus-dev/quercus/kv/mem"
)

func TestConformance(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kvtest.Opener {
		s := mem.New()
		// Every instance of the in-memory backend is the store itself.
		return func(t *testing.T) kv.Store { return s }
	})
}

func TestFailWrites(t *testing.T) {
	ctx := context.Background()
	s := mem.New()
	s.FailWrites(errors.New("remote gone"))
	_, err := s.Batch(ctx, kv.Commit{}, func(tx kv.Txn) error { return tx.Put("a", []byte("x")) })
	if !errors.Is(err, kv.ErrUnavailable) {
		t.Fatalf("Batch with failing writes: %v, want ErrUnavailable", err)
	}
	if s.Version() != "" {
		t.Fatal("failed write became visible")
	}
	s.FailWrites(nil)
	if _, err := s.Batch(ctx, kv.Commit{}, func(tx kv.Txn) error { return tx.Put("a", []byte("x")) }); err != nil {
		t.Fatal(err)
	}
}
