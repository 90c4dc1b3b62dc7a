//go:build linux && (amd64 || arm64)

package server

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// cmsg packs one control message as the kernel writes it.
func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	binary.NativeEndian.PutUint64(b, uint64(unix.CmsgLen(len(data))))
	binary.NativeEndian.PutUint32(b[8:], uint32(level))
	binary.NativeEndian.PutUint32(b[12:], uint32(typ))
	copy(b[unix.SizeofCmsghdr:], data)
	return b
}

func inPktinfo(ifindex uint32, specDst, addr string) []byte {
	b := binary.NativeEndian.AppendUint32(nil, ifindex)
	s, a := netip.MustParseAddr(specDst).As4(), netip.MustParseAddr(addr).As4()
	return append(append(b, s[:]...), a[:]...)
}

func in6Pktinfo(addr string, ifindex uint32) []byte {
	a := netip.MustParseAddr(addr).As16()
	return binary.NativeEndian.AppendUint32(a[:], ifindex)
}

// TestReplyControl: the control message an answer is sent with names
// the query's destination as its source; the interface only for IPv6
// link-local; nothing for control data without a destination.
func TestReplyControl(t *testing.T) {
	other := cmsg(unix.SOL_SOCKET, unix.SO_TIMESTAMP, make([]byte, 16))
	for _, tc := range []struct {
		name      string
		ctrl, out []byte
	}{
		{"ipv4", cmsg(unix.IPPROTO_IP, unix.IP_PKTINFO, inPktinfo(1, "127.0.0.1", "127.0.0.2")),
			cmsg(unix.IPPROTO_IP, unix.IP_PKTINFO, inPktinfo(0, "127.0.0.2", "0.0.0.0"))},
		{"ipv6", cmsg(unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, in6Pktinfo("::1", 1)),
			cmsg(unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, in6Pktinfo("::1", 0))},
		{"ipv4-mapped", cmsg(unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, in6Pktinfo("::ffff:127.0.0.2", 1)),
			cmsg(unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, in6Pktinfo("::ffff:127.0.0.2", 0))},
		{"link-local", cmsg(unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, in6Pktinfo("fe80::1", 7)),
			cmsg(unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, in6Pktinfo("fe80::1", 7))},
		{"after another", append(bytes.Clone(other), cmsg(unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, in6Pktinfo("::1", 1))...),
			cmsg(unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, in6Pktinfo("::1", 0))},
		{"none", nil, nil},
		{"other only", other, nil},
		{"short", cmsg(unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, in6Pktinfo("::1", 1))[:30], nil},
		{"bad length", append([]byte{0xff, 0xff, 0, 0, 0, 0, 0, 0}, make([]byte, 32)...), nil},
	} {
		out := make([]byte, ctrlSize)
		for i := range out {
			out[i] = 0xAA // replyControl must clear what it uses
		}
		n := replyControl(tc.ctrl, out)
		if !bytes.Equal(out[:n], tc.out) {
			t.Errorf("%s: got\n%x\nwant\n%x", tc.name, out[:n], tc.out)
		}
	}
}

// FuzzReplyControl: whatever the control data, replyControl neither
// panics nor writes past ctrlSize, and writes a whole message or none.
func FuzzReplyControl(f *testing.F) {
	f.Add(cmsg(unix.IPPROTO_IP, unix.IP_PKTINFO, inPktinfo(1, "127.0.0.1", "127.0.0.2")))
	f.Add(cmsg(unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, in6Pktinfo("fe80::1", 7)))
	f.Fuzz(func(t *testing.T, ctrl []byte) {
		out := make([]byte, ctrlSize)
		switch n := replyControl(ctrl, out); n {
		case 0, unix.CmsgSpace(unix.SizeofInet4Pktinfo), unix.CmsgSpace(unix.SizeofInet6Pktinfo):
		default:
			t.Fatalf("control message of %d bytes", n)
		}
	})
}

// TestWildQueueAllocs: queueing an answer with its source address, the
// wild socket's share of the fast path, allocates nothing.
func TestWildQueueAllocs(t *testing.T) {
	c := &batchConn{wild: true, general: -1}
	copy(c.in.ctrl[0][:], cmsg(unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, in6Pktinfo("::1", 1)))
	c.in.hs[0].hdr.SetControllen(unix.CmsgSpace(unix.SizeofInet6Pktinfo))
	if n := testing.AllocsPerRun(100, func() {
		c.queued = 0
		c.queue(0, 40)
	}); n != 0 {
		t.Errorf("%v allocations per queued answer", n)
	}
	if c.out.hs[0].hdr.Controllen == 0 {
		t.Error("the answer has no source address")
	}
}
