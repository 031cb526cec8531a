package conntrack

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/nfkit/nfkit/internal/nstest"
)

// benchFlows is the table size of the side-by-side benchmarks.
const benchFlows = 200_000

// benchServices is how many service addresses share the table: deleting
// one service/backend pair touches 1% of the flows.
const benchServices = 100

func benchFlow(i int) Flow {
	return Flow{
		Origin: Tuple{
			Src:     netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + (i/benchServices)%250)}),
			Dst:     netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + i%benchServices)}),
			Proto:   ProtoTCP,
			SrcPort: uint16(1024 + i/(benchServices*250)),
			DstPort: 8080,
		},
		Timeout: 3600,
		TCP:     &TCPInfo{State: TCPEstablished},
	}
}

// benchTable makes a namespace holding benchFlows flows, created with
// pipelined NEW messages.
func benchTable(b *testing.B) (*nstest.NS, *Conn) {
	b.Helper()
	ns, c := newTestConn(b)
	fill(b, c, 0, benchFlows, 1)
	return ns, c
}

// fill creates flows start, start+step, ... below end.
func fill(b testing.TB, c *Conn, start, end, step int) {
	ctx := context.Background()
	batch := c.NewBatch()
	for i := start; i < end; i += step {
		if err := batch.Create(benchFlow(i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := batch.Commit(ctx); err != nil {
		b.Fatal(err)
	}
}

// runTool runs conntrack in ns and returns the CPU time (user + system,
// which includes the kernel building the dump) the tool used.
func runTool(b *testing.B, ns *nstest.NS, args ...string) (user, sys time.Duration) {
	cmd := exec.Command("nsenter", append([]string{"--net=" + ns.Path(), "--", "conntrack"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("conntrack %v: %v: %.300s", args, err, out)
	}
	return cmd.ProcessState.UserTime(), cmd.ProcessState.SystemTime()
}

// cpuTime is this process's CPU time so far (user + system: the kernel
// building a dump runs in the reader's recvmsg). On a loaded machine it is
// steadier than wall time, which is why the dump benchmarks report both.
func cpuTime() (user, sys time.Duration) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// reportCPU reports the CPU time since (u0, s0) per flow.
func reportCPU(b *testing.B, u0, s0 time.Duration, flows int) {
	u, s := cpuTime()
	b.ReportMetric(float64((u-u0).Nanoseconds())/float64(flows), "user-ns/flow")
	b.ReportMetric(float64((s-s0).Nanoseconds())/float64(flows), "sys-ns/flow")
}

// BenchmarkDump200k compares streaming the whole table with All against
// `conntrack -L` in the same namespace and run. Metrics: ns/flow,
// allocs/flow and the peak live heap seen during the nfkit dump.
func BenchmarkDump200k(b *testing.B) {
	nstest.RequireTool(b, "conntrack")
	ns, c := benchTable(b)
	ctx := context.Background()
	b.Run("nfkit", func(b *testing.B) {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		base, allocs0 := ms.HeapAlloc, ms.Mallocs
		var peak uint64
		b.ResetTimer()
		u0, s0 := cpuTime()
		for i := 0; i < b.N; i++ {
			n := 0
			for _, err := range c.All(ctx, Filter{}) {
				if err != nil {
					b.Fatal(err)
				}
				n++
				if n%20000 == 0 {
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapAlloc)
				}
			}
			if n != benchFlows {
				b.Fatalf("dumped %d flows, want %d", n, benchFlows)
			}
		}
		b.StopTimer()
		reportCPU(b, u0, s0, b.N*benchFlows)
		runtime.ReadMemStats(&ms)
		total := float64(b.N * benchFlows)
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/total, "ns/flow")
		b.ReportMetric(float64(ms.Mallocs-allocs0)/total, "allocs/flow")
		b.ReportMetric(float64(peak-min(peak, base))/(1<<20), "peak-heap-MB")
	})
	// The floor: the same dump with every message received and nothing
	// decoded, i.e. the kernel building the dump plus the recv syscalls.
	b.Run("recv-only", func(b *testing.B) {
		req, _, err := (&Filter{}).kernelRequests(ctMsgGet)
		if err != nil {
			b.Fatal(err)
		}
		u0, s0 := cpuTime()
		for i := 0; i < b.N; i++ {
			n := 0
			for _, err := range c.nl.Dump(ctx, req[0]) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != benchFlows {
				b.Fatalf("received %d messages, want %d", n, benchFlows)
			}
		}
		reportCPU(b, u0, s0, b.N*benchFlows)
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchFlows), "ns/flow")
	})
	// A big socket receive buffer: the kernel then queues several dump
	// datagrams ahead of the reader, but each is still capped at 32 KiB
	// and built inside the reader's recvmsg, so the work is the same.
	b.Run("recv-only-rcvbuf8M", func(b *testing.B) {
		big, err := Dial(&Config{NetNS: ns.FD(), ReadBuffer: 8 << 20})
		if err != nil {
			b.Fatal(err)
		}
		defer big.Close()
		req, _, err := (&Filter{}).kernelRequests(ctMsgGet)
		if err != nil {
			b.Fatal(err)
		}
		u0, s0 := cpuTime()
		for i := 0; i < b.N; i++ {
			n := 0
			for _, err := range big.nl.Dump(ctx, req[0]) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != benchFlows {
				b.Fatalf("received %d messages, want %d", n, benchFlows)
			}
		}
		reportCPU(b, u0, s0, b.N*benchFlows)
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchFlows), "ns/flow")
	})
	b.Run("conntrack-L", func(b *testing.B) {
		var user, sys time.Duration
		for i := 0; i < b.N; i++ {
			u, s := runTool(b, ns, "-L")
			user, sys = user+u, sys+s
		}
		b.ReportMetric(float64(user.Nanoseconds())/float64(b.N*benchFlows), "user-ns/flow")
		b.ReportMetric(float64(sys.Nanoseconds())/float64(b.N*benchFlows), "sys-ns/flow")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchFlows), "ns/flow")
	})
}

// BenchmarkDeleteService200k deletes the 1% of flows of one
// service/backend pair (destination address and port) from a 200 000
// flow table: DeleteMatching, the kernel's filtered flush
// (FlushMatching) and `conntrack -D` with the same filter. The deleted
// flows are put back between iterations, off the clock.
func BenchmarkDeleteService200k(b *testing.B) {
	nstest.RequireTool(b, "conntrack")
	ns, c := benchTable(b)
	ctx := context.Background()
	const svc = 7 // flows i with i%benchServices == svc-1
	filter := Filter{Origin: &TupleFilter{Dst: netip.AddrFrom4([4]byte{192, 0, 2, svc}), Proto: ProtoTCP, DstPort: 8080}}
	want := benchFlows / benchServices
	restore := func(b *testing.B) {
		b.StopTimer()
		fill(b, c, svc-1, benchFlows, benchServices)
		b.StartTimer()
	}
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/delete")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*want), "ns/deleted-flow")
	}
	b.Run("nfkit-DeleteMatching", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			n, err := c.DeleteMatching(ctx, filter)
			if err != nil || n != want {
				b.Fatalf("deleted %d (want %d): %v", n, want, err)
			}
			restore(b)
		}
		report(b)
	})
	b.Run("nfkit-FlushMatching", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := c.FlushMatching(ctx, filter); err != nil {
				b.Fatal(err)
			}
			restore(b)
		}
		report(b)
	})
	b.Run("conntrack-D", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			runTool(b, ns, "-D", "-p", "tcp", "-d", fmt.Sprintf("192.0.2.%d", svc), "--dport", "8080")
			restore(b)
		}
		report(b)
	})
}

// BenchmarkDecode measures decoding one kernel-shaped flow message.
func BenchmarkDecode(b *testing.B) {
	f := benchFlow(1)
	f.Reply = f.Origin.Reverse()
	f.ID, f.Use, f.Status = 1, 1, StatusConfirmed
	data, _ := f.marshal(encodeFull)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		var g Flow
		if err := g.unmarshal(data); err != nil {
			b.Fatal(err)
		}
	}
}
