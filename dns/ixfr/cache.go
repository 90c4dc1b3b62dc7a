package ixfr

import (
	"container/list"
	"sync"
)

// cache is a least-recently-used map whose entries have a cost (records
// held), bounded in total cost rather than count: one version of a big
// zone weighs as much as many of a small one.
type cache[V any] struct {
	mu    sync.Mutex
	limit int
	cost  int
	order *list.List // of *entry[V], most recently used first
	byKey map[string]*list.Element
}

type entry[V any] struct {
	key   string
	value V
	cost  int
}

func newCache[V any](limit int) *cache[V] {
	return &cache[V]{limit: limit, order: list.New(), byKey: map[string]*list.Element{}}
}

func (c *cache[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*entry[V]).value, true
}

// add keeps value unless its cost alone exceeds the limit, evicting the
// least recently used entries to make room.
func (c *cache[V]) add(key string, value V, cost int) {
	cost = max(cost, 1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		c.remove(e)
	}
	if cost > c.limit {
		return
	}
	for c.cost+cost > c.limit {
		c.remove(c.order.Back())
	}
	c.byKey[key] = c.order.PushFront(&entry[V]{key: key, value: value, cost: cost})
	c.cost += cost
}

func (c *cache[V]) remove(e *list.Element) {
	en := c.order.Remove(e).(*entry[V])
	delete(c.byKey, en.key)
	c.cost -= en.cost
}

func (c *cache[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
