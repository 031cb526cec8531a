package iptables

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nfkit/nfkit/internal/nstest"
	"github.com/nfkit/nfkit/nft"
)

// Side-by-side benchmarks against iptables-nft 1.8.9 on a kube-proxy
// ruleset of benchSvcs services x benchEps endpoints (22 004 chains and
// 62 013 rules in nat at 2 000 x 10). Every iteration times both peers,
// each in its own fresh namespace where it matters, and reports both
// times and their ratio, so one run gives the comparison:
//
//	go test -run '^$' -bench 'Kube' -benchtime 3x ./iptables
//
// The CLI times include starting the tool through nsenter (a few ms), as
// a program that execs iptables-restore pays it too.
const (
	benchSvcs = 2000
	benchEps  = 10
)

func benchNS(b testing.TB) *nstest.NS {
	b.Helper()
	nstest.RequireTool(b, "iptables-nft-restore")
	ns, err := nstest.Create("nfkit-bench")
	if err != nil {
		nstest.Unavailable(b, err.Error())
	}
	return ns
}

func report(b *testing.B, nfkit, cli time.Duration, cliName string) {
	n := float64(b.N)
	b.ReportMetric(float64(nfkit.Milliseconds())/n, "nfkit-ms/op")
	b.ReportMetric(float64(cli.Milliseconds())/n, cliName+"-ms/op")
	b.ReportMetric(float64(cli)/float64(nfkit), "speedup-x")
}

// BenchmarkKubeRestoreFull: the whole ruleset into an empty namespace,
// Restore vs iptables-nft-restore.
func BenchmarkKubeRestoreFull(b *testing.B) {
	in := kubeRuleset(kubeServices(benchSvcs, benchEps))
	ctx := context.Background()
	var tk, tc time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		nsK, nsC := benchNS(b), benchNS(b)
		c, err := Dial(&Config{NetNS: nsK.FD()})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		if err := c.Restore(ctx, strings.NewReader(in), IPv4, nil); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if out, err := nsC.ExecInput([]byte(in), "iptables-nft-restore"); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
		t2 := time.Now()
		b.StopTimer()
		tk += t1.Sub(t0)
		tc += t2.Sub(t1)
		c.Close()
		nsK.Close()
		nsC.Close()
	}
	report(b, tk, tc, "iptables-nft-restore")
}

// BenchmarkKubeNoFlushOneService: with the full ruleset loaded, one
// service's endpoints change (its chains rewritten, 2 endpoint chains
// replaced), applied with --noflush semantics, alternating between two
// versions so every iteration is a real change.
func BenchmarkKubeNoFlushOneService(b *testing.B) {
	updates, nsK, nsC, c := noFlushSetup(b)
	defer nsK.Close()
	defer nsC.Close()
	defer c.Close()
	ctx := context.Background()
	opt := &RestoreOptions{NoFlush: true}
	var tk, tc time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		u := updates[i%2]
		t0 := time.Now()
		if err := c.Restore(ctx, strings.NewReader(u), IPv4, opt); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if out, err := nsC.ExecInput([]byte(u), "iptables-nft-restore", "--noflush"); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
		tk += t1.Sub(t0)
		tc += time.Since(t1)
	}
	report(b, tk, tc, "iptables-nft-restore-noflush")
}

// BenchmarkKubeSave: Save vs iptables-nft-save of the full ruleset, both
// into memory.
func BenchmarkKubeSave(b *testing.B) {
	ns, c := kubeSaveSetup(b)
	defer ns.Close()
	defer c.Close()
	ctx := context.Background()
	var buf bytes.Buffer
	var tk, tc, cpuK, cpuC time.Duration
	var ms0, ms1 runtime.MemStats
	var mallocs uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf.Reset()
		runtime.ReadMemStats(&ms0)
		s0, c0 := rusage(syscall.RUSAGE_SELF), rusage(syscall.RUSAGE_CHILDREN)
		t0 := time.Now()
		if err := c.Save(ctx, &buf, IPv4, "", nil); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		s1 := rusage(syscall.RUSAGE_SELF)
		runtime.ReadMemStats(&ms1)
		mallocs += ms1.Mallocs - ms0.Mallocs
		out, err := ns.Exec("iptables-nft-save")
		if err != nil {
			b.Fatal(err)
		}
		tc += time.Since(t1)
		tk += t1.Sub(t0)
		cpuK += s1 - s0
		cpuC += rusage(syscall.RUSAGE_CHILDREN) - c0
		if i == 0 && stripSaveComments(buf.String()) != stripSaveComments(out) {
			b.Fatal("Save and iptables-nft-save differ")
		}
	}
	report(b, tk, tc, "iptables-nft-save")
	// CPU time (user + system, kernel work for the dumps included): this
	// process during Save, the tool's process tree (nsenter and
	// iptables-nft-save) for the CLI.
	b.ReportMetric(float64(cpuK.Milliseconds())/float64(b.N), "nfkit-cpu-ms/op")
	b.ReportMetric(float64(cpuC.Milliseconds())/float64(b.N), "iptables-nft-save-cpu-ms/op")
	// Allocations of Save (all goroutines) per printed rule.
	rules := bytes.Count(buf.Bytes(), []byte("\n-A "))
	b.ReportMetric(float64(mallocs)/float64(b.N)/float64(rules), "nfkit-allocs/rule")
}

// rusage is the user + system CPU time of who (RUSAGE_SELF or
// RUSAGE_CHILDREN, the children waited for).
func rusage(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkKubeRestorePhases splits the full Restore into its phases:
// parsing and planning the batch (no I/O), and committing it (the one
// nf_tables transaction: the message framing and sendmsg, in which the
// kernel applies and commits the whole batch), next to
// iptables-nft-restore of the same input in another fresh namespace.
// commit-cpu-ms is the process CPU time (user + system) spent during the
// commit: the difference to commit-ms is time the commit waited (for the
// CPU on a busy machine, for RCU grace periods in the kernel).
//
//	go test -run '^$' -bench KubeRestorePhases -benchtime 3x ./iptables
func BenchmarkKubeRestorePhases(b *testing.B) {
	in := kubeRuleset(kubeServices(benchSvcs, benchEps))
	ctx := context.Background()
	var tPlan, tCommit, tCommitCPU, tCLI time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		nsK, nsC := benchNS(b), benchNS(b)
		c, err := Dial(&Config{NetNS: nsK.FD()})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		tables, err := parseRestore(strings.NewReader(in), IPv4, false)
		if err != nil {
			b.Fatal(err)
		}
		batch := NewBatch()
		p := &planner{c: c, b: batch, f: IPv4, opt: &RestoreOptions{}}
		for i := range tables {
			if err := p.doTable(ctx, &tables[i]); err != nil {
				b.Fatal(err)
			}
		}
		cpu0 := processCPU()
		t1 := time.Now()
		if err := c.Commit(ctx, batch); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		tCommitCPU += processCPU() - cpu0
		if out, err := nsC.ExecInput([]byte(in), "iptables-nft-restore"); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
		t3 := time.Now()
		b.StopTimer()
		tPlan += t1.Sub(t0)
		tCommit += t2.Sub(t1)
		tCLI += t3.Sub(t2)
		c.Close()
		nsK.Close()
		nsC.Close()
	}
	n := float64(b.N)
	b.ReportMetric(float64(tPlan.Milliseconds())/n, "parse+plan-ms/op")
	b.ReportMetric(float64(tCommit.Milliseconds())/n, "commit-ms/op")
	b.ReportMetric(float64(tCommitCPU.Milliseconds())/n, "commit-cpu-ms/op")
	b.ReportMetric(float64(tCLI.Milliseconds())/n, "iptables-nft-restore-ms/op")
	b.ReportMetric(float64(tCLI)/float64(tPlan+tCommit), "speedup-x")
}

// processCPU is the user+system CPU time of this process so far: during
// Commit, system time is the kernel applying the batch in sendmsg.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkKubePlan is the I/O-free part of a full Restore: parsing the
// kube-proxy ruleset and planning its batch, then adding the batch to an
// nft.Batch (AppendTo), without committing.
func BenchmarkKubePlan(b *testing.B) {
	in := kubeRuleset(kubeServices(benchSvcs, benchEps))
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		tables, err := parseRestore(strings.NewReader(in), IPv4, false)
		if err != nil {
			b.Fatal(err)
		}
		batch := NewBatch()
		p := &planner{b: batch, f: IPv4, opt: &RestoreOptions{}}
		for i := range tables {
			if err := p.doTable(ctx, &tables[i]); err != nil {
				b.Fatal(err)
			}
		}
		batch.AppendTo((*nft.Conn)(nil).NewBatch())
	}
}

// BenchmarkKubeNoFlushPhases splits the --noflush one-service update of
// BenchmarkKubeNoFlushOneService into parse+plan (PlanRestore: no reads
// for this input) and the commit (wall, and this process's user and
// system CPU during it: system time is the kernel applying the batch and
// validating the table inside sendmsg), next to iptables-nft-restore
// --noflush of the same update on the same ruleset in another namespace.
// one-verdict-rule and one-plain-rule are the commits of a single rule
// with and without a verdict: the first pays nft_table_validate over the
// whole nat table, the floor of any update that adds a jump.
//
//	go test -run '^$' -bench KubeNoFlushPhases -benchtime 20x ./iptables
func BenchmarkKubeNoFlushPhases(b *testing.B) {
	updates, nsK, nsC, c := noFlushSetup(b)
	defer nsK.Close()
	defer nsC.Close()
	defer c.Close()
	ctx := context.Background()
	opt := &RestoreOptions{NoFlush: true}
	var tPlan, tCommit, tUser, tSys, tCLI time.Duration
	var tFloor [2]time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		u := updates[i%2]
		t0 := time.Now()
		batch, err := c.PlanRestore(ctx, strings.NewReader(u), IPv4, opt)
		if err != nil {
			b.Fatal(err)
		}
		u0, s0 := processCPUSplit()
		t1 := time.Now()
		if err := c.Commit(ctx, batch); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		u1, s1 := processCPUSplit()
		if out, err := nsC.ExecInput([]byte(u), "iptables-nft-restore", "--noflush"); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
		tCLI += time.Since(t2)
		// The kernel floor: one rule with a verdict (the commit validates
		// the whole table) and one without (no validation), each added
		// and removed again.
		for j, spec := range []string{"-A KUBE-MARK-MASQ -j RETURN", "-A KUBE-MARK-MASQ"} {
			r, err := ParseRule(IPv4, spec)
			if err != nil {
				b.Fatal(err)
			}
			r.Table = "nat"
			t3 := time.Now()
			if err := c.Append(ctx, IPv4, r); err != nil {
				b.Fatal(err)
			}
			tFloor[j] += time.Since(t3)
			if err := c.Delete(ctx, IPv4, r); err != nil {
				b.Fatal(err)
			}
		}
		tPlan += t1.Sub(t0)
		tCommit += t2.Sub(t1)
		tUser += u1 - u0
		tSys += s1 - s0
	}
	n := float64(b.N)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / n }
	b.ReportMetric(ms(tPlan), "parse+plan-ms/op")
	b.ReportMetric(ms(tCommit), "commit-ms/op")
	b.ReportMetric(ms(tUser), "commit-user-ms/op")
	b.ReportMetric(ms(tSys), "commit-sys-ms/op")
	b.ReportMetric(ms(tCLI), "iptables-nft-restore-ms/op")
	b.ReportMetric(ms(tFloor[0]), "one-verdict-rule-ms/op")
	b.ReportMetric(ms(tFloor[1]), "one-plain-rule-ms/op")
}

func processCPUSplit() (user, sys time.Duration) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// BenchmarkSaveRules is Save's work per rule without the kernel: the
// kube-proxy nat rules, encoded as iptables-nft writes them, decoded and
// printed as one Save worker does (pooled decode, one reused buffer).
// allocs/rule and ns/rule are per listed rule; the dump itself (package
// nft and the socket) is not included.
//
//	go test -run '^$' -bench SaveRules -benchmem ./iptables
func BenchmarkSaveRules(b *testing.B) {
	listed := kubeRules(b, kubeRuleset(kubeServices(benchSvcs, benchEps)))
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// A fresh pool and buffer each time, as every Save starts with.
		d := ruleDec{pool: &decPool{}}
		var out textBuf
		for _, nr := range listed {
			r, err := d.decodeListed(IPv4, nr)
			if err != nil {
				b.Fatal(err)
			}
			saveLine(&out, r, nr.Chain, IPv4, false)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	n := float64(b.N) * float64(len(listed))
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/n, "allocs/rule")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/rule")
}

// noFlushSetup loads the kube-proxy table with iptables-nft-restore into
// two fresh namespaces (nsK for nfkit, nsC for the CLI) and returns the two
// alternating one-service updates and a Conn in nsK.
func noFlushSetup(b *testing.B) ([]string, *nstest.NS, *nstest.NS, *Conn) {
	b.Helper()
	svcs := kubeServices(benchSvcs, benchEps)
	full := kubeRuleset(svcs)
	a := svcs[benchSvcs/2]
	bb := a
	bb.eps = append([]string{"10.245.0.1", "10.245.0.2"}, a.eps[2:]...)
	updates := []string{kubeUpdate(a, bb), kubeUpdate(bb, a)}
	nsK, nsC := benchNS(b), benchNS(b)
	for _, ns := range []*nstest.NS{nsK, nsC} {
		if out, err := ns.ExecInput([]byte(full), "iptables-nft-restore"); err != nil {
			nsK.Close()
			nsC.Close()
			b.Fatalf("%v: %s", err, out)
		}
	}
	c, err := Dial(&Config{NetNS: nsK.FD()})
	if err != nil {
		nsK.Close()
		nsC.Close()
		b.Fatal(err)
	}
	return updates, nsK, nsC, c
}

// kubeSaveSetup makes a namespace holding the full kube ruleset, written
// by iptables-nft-restore, and a Conn in it.
func kubeSaveSetup(b *testing.B) (*nstest.NS, *Conn) {
	full := kubeRuleset(kubeServices(benchSvcs, benchEps))
	ns := benchNS(b)
	if out, err := ns.ExecInput([]byte(full), "iptables-nft-restore"); err != nil {
		ns.Close()
		b.Fatalf("%v: %s", err, out)
	}
	c, err := Dial(&Config{NetNS: ns.FD()})
	if err != nil {
		ns.Close()
		b.Fatal(err)
	}
	return ns, c
}
