package ipset

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nstest"
)

// Side-by-side benchmarks against the ipset CLI, in one run:
//
//	go test -run XXX -bench . -benchtime 5x ./ipset/
//
// Each iteration gets a fresh namespace (created outside the timer); the
// ns/entry metric of the sub-benchmarks gives the ratio.

const benchN = 100_000

var benchSet = Set{Name: "bench", Type: HashIPPort, HashSize: 65536, MaxElem: 1 << 20}

// benchEntries are the same entries for nfkit and for the CLI text.
func benchEntries() []Entry { return ipPortEntries(benchN) }

func restoreText(withCreate bool) string {
	var b bytes.Buffer
	if withCreate {
		fmt.Fprintf(&b, "create bench hash:ip,port hashsize 65536 maxelem %d\n", 1<<20)
	}
	for _, e := range benchEntries() {
		fmt.Fprintf(&b, "add bench %s\n", e.String())
	}
	return b.String()
}

func benchNS(b *testing.B) (*nstest.NS, *Conn) {
	b.Helper()
	nstest.RequireRoot(b)
	nstest.RequireTool(b, "ipset")
	ns, err := nstest.Create("nfkit-bench")
	if err != nil {
		b.Fatal(err)
	}
	c, err := Dial(&Config{NetNS: ns.FD()})
	if err != nil {
		ns.Close()
		b.Fatal(err)
	}
	return ns, c
}

func closeNS(ns *nstest.NS, c *Conn) {
	c.Close()
	ns.Close()
}

func perEntry(b *testing.B, d time.Duration) {
	b.ReportMetric(float64(d.Nanoseconds())/float64(b.N*benchN), "ns/entry")
}

// BenchmarkAdd100k: create a hash:ip,port set and add 100 000 entries.
func BenchmarkAdd100k(b *testing.B) {
	entries := benchEntries()
	b.Run("nfkit", func(b *testing.B) {
		var total time.Duration
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			ns, c := benchNS(b)
			ctx := context.Background()
			b.StartTimer()
			start := time.Now()
			if err := c.Create(ctx, benchSet); err != nil {
				b.Fatal(err)
			}
			if err := c.Add(ctx, "bench", entries...); err != nil {
				b.Fatal(err)
			}
			total += time.Since(start)
			b.StopTimer()
			closeNS(ns, c)
			b.StartTimer()
		}
		perEntry(b, total)
	})
	text := []byte(restoreText(true))
	b.Run("ipset-restore", func(b *testing.B) {
		var total time.Duration
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			ns, c := benchNS(b)
			b.StartTimer()
			start := time.Now()
			if out, err := ns.ExecInput(text, "ipset", "restore"); err != nil {
				b.Fatalf("%v: %s", err, out)
			}
			total += time.Since(start)
			b.StopTimer()
			closeNS(ns, c)
			b.StartTimer()
		}
		perEntry(b, total)
	})
}

// BenchmarkList100k: read back 100 000 entries, typed (nfkit-list), as
// save text (nfkit-save) and with `ipset save`.
func BenchmarkList100k(b *testing.B) {
	ns, c := benchNS(b)
	defer closeNS(ns, c)
	ctx := context.Background()
	if err := c.Create(ctx, benchSet); err != nil {
		b.Fatal(err)
	}
	if err := c.Add(ctx, "bench", benchEntries()...); err != nil {
		b.Fatal(err)
	}
	b.Run("nfkit-list", func(b *testing.B) {
		start := time.Now()
		for i := 0; i < b.N; i++ {
			n := 0
			for _, err := range c.Entries(ctx, "bench") {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != benchN {
				b.Fatalf("%d entries", n)
			}
		}
		perEntry(b, time.Since(start))
	})
	b.Run("nfkit-save", func(b *testing.B) {
		start := time.Now()
		for i := 0; i < b.N; i++ {
			if err := c.Save(ctx, io.Discard, "bench"); err != nil {
				b.Fatal(err)
			}
		}
		perEntry(b, time.Since(start))
	})
	b.Run("ipset-save", func(b *testing.B) {
		start := time.Now()
		for i := 0; i < b.N; i++ {
			if out, err := ns.Exec("ipset", "save", "bench"); err != nil {
				b.Fatalf("%v: %s", err, out[:min(len(out), 200)])
			}
		}
		perEntry(b, time.Since(start))
	})
}

// BenchmarkReplaceSet100k: atomically replace the contents of a set
// holding 100 000 entries with 100 000 others.
func BenchmarkReplaceSet100k(b *testing.B) {
	ns, c := benchNS(b)
	defer closeNS(ns, c)
	ctx := context.Background()
	all := ipPortEntries(2 * benchN)
	if err := c.ReplaceSet(ctx, benchSet, all[:benchN]); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		half := all[(i%2)*benchN : (i%2+1)*benchN]
		if err := c.ReplaceSet(ctx, benchSet, half); err != nil {
			b.Fatal(err)
		}
	}
	perEntry(b, time.Since(start))
}

// BenchmarkEncodeEntries measures building the ADD messages alone.
func BenchmarkEncodeEntries(b *testing.B) {
	c := &Conn{protocol: 7}
	entries := benchEntries()
	ti, _ := lookupType(HashIPPort)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = c.appendEntryChunks(nil, 0, cmdAdd, 0, "bench", entries, ti)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchN), "ns/entry")
}

// BenchmarkDecodeEntries measures decoding listed entries alone.
func BenchmarkDecodeEntries(b *testing.B) {
	c := &Conn{protocol: 7}
	ti, _ := lookupType(HashIPPort)
	chunks := c.appendEntryChunks(nil, 0, cmdAdd, 0, "bench", benchEntries(), ti)
	var adts [][]byte
	for _, ch := range chunks {
		it := attr.NewIter(ch.msg.Data[4:])
		for it.Next() {
			if it.Kind() == attrADT {
				adts = append(adts, it.Data())
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		for _, a := range adts {
			if err := forEachEntry(a, func(Entry) bool { n++; return true }); err != nil {
				b.Fatal(err)
			}
		}
		if n != benchN {
			b.Fatal(n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchN), "ns/entry")
}
