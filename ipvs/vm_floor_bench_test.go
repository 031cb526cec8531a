//go:build vmtest

package ipvs

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/nstest"
)

// BenchmarkListFloor takes ListServices apart to show where listing time
// goes: the kernel has no dump of all destinations, only one GET_DEST dump
// per service, so the cost is (number of services) x (one dump round trip).
// Sub-benchmarks, all on the same table, each reporting ms/service:
//
//   - services: the service dump alone (no destinations);
//   - workers=N: ListServices with N destination sockets;
//   - dump-only: one GET_DEST dump per service through nlconn on one
//     socket, messages counted, nothing decoded;
//   - raw-syscalls: the same dumps with bare sendto/recvfrom on a socket
//     made here, no nfkit code at all, reading into destRecvSize buffers
//     as ListServices' sockets do: the floor of one socket in turn;
//   - raw-syscalls-32k: the same with 32 KiB reads (the kernel then sizes
//     every dump datagram at 32 KiB: its allocation cost);
//   - info-roundtrip: one GET_INFO request and its ack per service, the
//     cost of a bare netlink round trip in this kernel;
//   - ipvsadm-Sn: the reference tool.
//
// The table size is NFKIT_IPVS_FLOOR_SERVICES (default 300) x 10.
func BenchmarkListFloor(b *testing.B) {
	nSvc := 300
	if v, err := strconv.Atoi(os.Getenv("NFKIT_IPVS_FLOOR_SERVICES")); err == nil && v > 0 {
		nSvc = v
	}
	ns := nstest.New(b)
	c, err := Dial(&Config{NetNS: ns.FD()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	cfg := bigConfig(nSvc, 10)
	if _, err := c.Apply(ctx, cfg, nil); err != nil {
		b.Fatal(err)
	}
	reqs := make([]netlink.Message, nSvc)
	for i := range cfg {
		a, err := serviceAttrs(&Service{ServiceKey: cfg[i].ServiceKey}, false)
		if err != nil {
			b.Fatal(err)
		}
		reqs[i] = c.message(cmdGetDest, a)
	}
	perService := func(b *testing.B, start time.Time) {
		d := time.Since(start)
		b.ReportMetric(float64(d.Microseconds())/1000/float64(b.N*nSvc), "ms/service")
	}
	services := func(b *testing.B, c *Conn) {
		start := time.Now()
		for b.Loop() {
			n := 0
			for _, err := range c.AllServices(ctx) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != nSvc {
				b.Fatalf("%d services", n)
			}
		}
		perService(b, start)
	}
	b.Run("services", func(b *testing.B) { services(b, c) })
	// The same on a connection that has not just applied the table (its
	// socket buffers were grown for the big pipelined batch).
	b.Run("services-fresh", func(b *testing.B) {
		fc, err := Dial(&Config{NetNS: ns.FD()})
		if err != nil {
			b.Fatal(err)
		}
		defer fc.Close()
		services(b, fc)
	})
	b.Run("dump-only-fresh", func(b *testing.B) {
		fc, err := Dial(&Config{NetNS: ns.FD()})
		if err != nil {
			b.Fatal(err)
		}
		defer fc.Close()
		start := time.Now()
		for b.Loop() {
			for _, req := range reqs {
				for _, err := range fc.c.Dump(ctx, req) {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		}
		perService(b, start)
	})
	for _, w := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			lc, err := Dial(&Config{NetNS: ns.FD(), ListWorkers: w})
			if err != nil {
				b.Fatal(err)
			}
			defer lc.Close()
			start := time.Now()
			for b.Loop() {
				svcs, err := lc.ListServices(ctx)
				if err != nil || len(svcs) != nSvc || len(svcs[0].Destinations) != 10 {
					b.Fatalf("list: %d services, %v", len(svcs), err)
				}
			}
			perService(b, start)
		})
	}
	b.Run("dump-only", func(b *testing.B) {
		start := time.Now()
		for b.Loop() {
			for _, req := range reqs {
				n := 0
				for _, err := range c.c.Dump(ctx, req) {
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != 10 {
					b.Fatalf("%d destinations", n)
				}
			}
		}
		perService(b, start)
	})
	// The same with the garbage collector off: how much of dump-only's
	// distance to raw-syscalls is collection (slow under TCG).
	b.Run("dump-only-nogc", func(b *testing.B) {
		defer debug.SetGCPercent(debug.SetGCPercent(-1))
		runtime.GC()
		start := time.Now()
		for b.Loop() {
			for _, req := range reqs {
				for _, err := range c.c.Dump(ctx, req) {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		}
		perService(b, start)
	})
	for _, rs := range []struct {
		name string
		size int
	}{{"raw-syscalls", destRecvSize}, {"raw-syscalls-32k", 32 << 10}} {
		rawSyscalls(b, ns, reqs, rs.name, rs.size, perService)
	}
	// raw-syscalls plus a MSG_PEEK before every read, as nlconn does to
	// size its buffer: the price of the extra syscalls.
	b.Run("raw-syscalls-peek", func(b *testing.B) {
		var fd int
		err := ns.Do(func() (err error) {
			fd, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_GENERIC)
			if err != nil {
				return err
			}
			return unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
		})
		if err != nil {
			b.Fatal(err)
		}
		defer unix.Close(fd)
		buf := make([]byte, 32<<10)
		start := time.Now()
		for b.Loop() {
			for i, m := range reqs {
				m.Header.Flags = netlink.Request | netlink.Dump
				m.Header.Sequence = uint32(i + 1)
				m.Header.Length = uint32(16 + len(m.Data))
				w, _ := m.MarshalBinary()
				if err := unix.Sendto(fd, w, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
					b.Fatal(err)
				}
				if n := rawDrainPeek(b, fd, buf); n != 10 {
					b.Fatalf("%d destinations", n)
				}
			}
		}
		perService(b, start)
	})
	b.Run("workers=1-gomaxprocs=1", func(b *testing.B) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		lc, err := Dial(&Config{NetNS: ns.FD(), ListWorkers: 1})
		if err != nil {
			b.Fatal(err)
		}
		defer lc.Close()
		start := time.Now()
		for b.Loop() {
			if svcs, err := lc.ListServices(ctx); err != nil || len(svcs) != nSvc {
				b.Fatalf("list: %d services, %v", len(svcs), err)
			}
		}
		perService(b, start)
	})
	b.Run("info-roundtrip", func(b *testing.B) {
		start := time.Now()
		for b.Loop() {
			for range nSvc {
				if _, err := c.Info(ctx); err != nil {
					b.Fatal(err)
				}
			}
		}
		perService(b, start)
	})
	b.Run("ipvsadm-Sn", func(b *testing.B) {
		start := time.Now()
		for b.Loop() {
			ns.Run(b, "ipvsadm", "-Sn")
		}
		perService(b, start)
	})
}

// rawDrainPeek is rawDrain with a MSG_PEEK before each read.
func rawDrainPeek(b *testing.B, fd int, buf []byte) int {
	count := 0
	for {
		if _, _, err := unix.Recvfrom(fd, buf, unix.MSG_PEEK|unix.MSG_TRUNC); err != nil {
			b.Fatal(err)
		}
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			b.Fatal(err)
		}
		for p := buf[:n]; len(p) >= 16; {
			l := int(binary.NativeEndian.Uint32(p[0:4]))
			typ := binary.NativeEndian.Uint16(p[4:6])
			if typ == unix.NLMSG_DONE {
				return count
			}
			count++
			if l < 16 || l > len(p) {
				b.Fatalf("bad message length %d", l)
			}
			p = p[(l+3)&^3:]
		}
	}
}

// rawDrain reads one dump's replies up to NLMSG_DONE and counts the
// others.
func rawDrain(b *testing.B, fd int, buf []byte) int {
	count := 0
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			b.Fatal(err)
		}
		for p := buf[:n]; len(p) >= 16; {
			l := int(binary.NativeEndian.Uint32(p[0:4]))
			typ := binary.NativeEndian.Uint16(p[4:6])
			if typ == unix.NLMSG_DONE {
				return count
			}
			if typ == unix.NLMSG_ERROR {
				b.Fatalf("dump error %d", int32(binary.NativeEndian.Uint32(p[16:20])))
			}
			count++
			if l < 16 || l > len(p) {
				b.Fatalf("bad message length %d", l)
			}
			p = p[(l+3)&^3:]
		}
	}
}

// rawSyscalls is the raw-syscalls sub-benchmark reading into size-byte
// buffers: the kernel sizes each dump datagram by the largest read a socket
// offered, so 32 KiB reads cost it two 32 KiB allocations per service.
func rawSyscalls(b *testing.B, ns *nstest.NS, reqs []netlink.Message, name string, size int, perService func(*testing.B, time.Time)) {
	b.Run(name, func(b *testing.B) {
		var fd int
		err := ns.Do(func() (err error) {
			fd, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_GENERIC)
			if err != nil {
				return err
			}
			return unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
		})
		if err != nil {
			b.Fatal(err)
		}
		defer unix.Close(fd)
		wire := make([][]byte, len(reqs))
		for i, m := range reqs {
			m.Header.Flags = netlink.Request | netlink.Dump
			m.Header.Sequence = uint32(i + 1)
			m.Header.Length = uint32(16 + len(m.Data))
			if wire[i], err = m.MarshalBinary(); err != nil {
				b.Fatal(err)
			}
		}
		buf := make([]byte, size)
		start := time.Now()
		for b.Loop() {
			for _, w := range wire {
				if err := unix.Sendto(fd, w, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
					b.Fatal(err)
				}
				n := rawDrain(b, fd, buf)
				if n != 10 {
					b.Fatalf("%d destinations", n)
				}
			}
		}
		perService(b, start)
	})
}
