package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nfkit/nfkit/bench/internal/nsutil"
)

// Size is one scale of every workload.
type Size struct {
	Name      string
	Services  int // kube-proxy services
	Endpoints int // endpoints per service
	Entries   int // ipset entries and nft set elements
	Flows     int // conntrack flows
}

var sizes = map[string]Size{
	"tiny":    {"tiny", 20, 2, 200, 200},
	"small":   {"small", 200, 10, 10_000, 20_000},
	"default": {"default", 2000, 10, 100_000, 200_000},
	"large":   {"large", 20_000, 10, 1_000_000, 2_000_000},
}

// Env is what a workload's setup, peers and checks get for one run: a
// fresh namespace and a scratch directory.
type Env struct {
	NS   *nsutil.NS
	Size Size
	Dir  string
}

// Prepared is a Go peer's operation, built (inputs, connections) off the
// clock. Op returns how many objects it handled (for the checks). Factor > 1
// marks an extrapolated figure: Op did 1/Factor of the work and every cost
// is multiplied by Factor.
type Prepared struct {
	Op     func(ctx context.Context) (int, error)
	Factor float64
	Note   string
}

// Peer is one way of doing a workload.
type Peer struct {
	Name string
	// Kind: "nfkit", "go" (another Go library) or "cli".
	Kind string
	// CLI peers: argv and an optional stdin text, built off the clock.
	CLI func(e *Env) (argv []string, stdin string, err error)
	// Count, for CLI peers whose output is the result (listings): how
	// many objects the output holds.
	Count func(out []byte) int
	// Go peers run in a child process started inside the namespace.
	Go func(ctx context.Context, s Size) (Prepared, error)
	// Skip returns a reason not to run this peer at this size.
	Skip func(s Size) string
	// Setup overrides the workload's setup for this peer (iptables-legacy).
	Setup func(e *Env) error
}

// Workload is one measured task with the peers that do it.
type Workload struct {
	Name string
	Desc string
	// Units is how many objects the task is about at a size (rules,
	// entries, flows), for per-object cost.
	Units func(s Size) int
	Unit  string
	Skip  func(s Size) string
	// Setup prepares the namespace (untimed), e.g. loads a ruleset.
	Setup func(e *Env) error
	// Check verifies the namespace after a peer's run (and, for
	// listings, the count the peer reported).
	Check func(e *Env, peer string, smp Sample) error
	Peers []Peer
}

// Sample is one measured run.
type Sample struct {
	Wall       time.Duration `json:"wall_ns"`
	CPU        time.Duration `json:"cpu_ns"`
	MaxRSS     int64         `json:"maxrss_kb"`
	Allocs     uint64        `json:"allocs,omitempty"`
	AllocBytes uint64        `json:"alloc_bytes,omitempty"`
	Count      int           `json:"count"`
	Factor     float64       `json:"factor,omitempty"`
	Note       string        `json:"note,omitempty"`
}

// Figure is the median of a peer's runs on a workload.
type Figure struct {
	Workload string   `json:"workload"`
	Size     string   `json:"size"`
	Units    int      `json:"units"`
	Unit     string   `json:"unit"`
	Peer     string   `json:"peer"`
	Kind     string   `json:"kind"`
	Runs     int      `json:"runs"`
	Median   Sample   `json:"median"`
	Samples  []Sample `json:"samples,omitempty"`
	Ratio    float64  `json:"nfkit_over_peer,omitempty"` // nfkit wall / peer wall, same run
	Skipped  string   `json:"skipped,omitempty"`
	Err      string   `json:"error,omitempty"`
	Verified bool     `json:"verified"`
	RSSNote  string   `json:"rss_note,omitempty"`
	Part     int      `json:"part,omitempty"` // Report.Parts[Part-1] measured it (-merge)
	probeRSS int64
}

// childEnv names the workload and peer a child process runs.
const childEnv = "NFBENCH_CHILD"

// runChild is the whole life of a Go peer's child process: prepare, run
// the operation once on the clock, print one JSON Sample on stdout.
func runChild(spec string) error {
	wname, rest, _ := strings.Cut(spec, "|")
	pname, sname, _ := strings.Cut(rest, "|")
	s, ok := sizes[sname]
	if !ok {
		return fmt.Errorf("child: unknown size %q", sname)
	}
	w, p := findPeer(wname, pname)
	if p == nil || p.Go == nil {
		return fmt.Errorf("child: no Go peer %s/%s", wname, pname)
	}
	ctx := context.Background()
	prep, err := p.Go(ctx, s)
	if err != nil {
		return fmt.Errorf("%s/%s prepare: %w", w.Name, p.Name, err)
	}
	runtime.GC()
	var ms0, ms1 runtime.MemStats
	var self0, self1, kids0, kids1 syscall.Rusage
	runtime.ReadMemStats(&ms0)
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self0)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids0)
	t0 := time.Now()
	n, err := prep.Op(ctx)
	wall := time.Since(t0)
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self1)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids1)
	runtime.ReadMemStats(&ms1)
	if err != nil {
		return fmt.Errorf("%s/%s: %w", w.Name, p.Name, err)
	}
	f := prep.Factor
	if f == 0 {
		f = 1
	}
	cpu := cpuTime(&self1) - cpuTime(&self0) + cpuTime(&kids1) - cpuTime(&kids0)
	out := Sample{
		Wall: time.Duration(float64(wall) * f),
		CPU:  time.Duration(float64(cpu) * f),
		// ru_maxrss of a process started with vfork (as Go does) starts at
		// its parent's high-water mark, so our own ru_maxrss would include
		// nfbench's parent; VmHWM is this process's own address space.
		// Children (knftables' nft, go-iptables' iptables) are forked from
		// this process: their ru_maxrss is max(ours at fork, their own).
		MaxRSS:     max(vmHWM(), kids1.Maxrss),
		Allocs:     uint64(float64(ms1.Mallocs-ms0.Mallocs) * f),
		AllocBytes: uint64(float64(ms1.TotalAlloc-ms0.TotalAlloc) * f),
		Count:      n,
		Note:       prep.Note,
	}
	if f != 1 {
		out.Factor = f
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// vmHWM is this process's peak resident set in KiB (VmHWM).
func vmHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

func cpuTime(r *syscall.Rusage) time.Duration {
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

// runOnce runs peer p of workload w once in a fresh namespace and checks
// that it did the work.
func runOnce(ctx context.Context, w *Workload, p *Peer, s Size, probe bool) (Sample, error) {
	e, done, err := newEnv(s)
	if err != nil {
		return Sample{}, err
	}
	defer done()
	setup := w.Setup
	if p.Setup != nil {
		setup = p.Setup
	}
	if setup != nil {
		if err := setup(e); err != nil {
			return Sample{}, fmt.Errorf("setup: %w", err)
		}
	}
	var smp Sample
	if p.Go != nil {
		smp, err = runGoPeer(e, w, p)
	} else {
		smp, err = runCLIPeer(e, p, probe)
	}
	if err != nil {
		return smp, err
	}
	if w.Check != nil {
		if err := w.Check(e, p.Name, smp); err != nil {
			return smp, fmt.Errorf("check after %s: %w", p.Name, err)
		}
	}
	return smp, nil
}

// timeBin measures a CLI tool's peak memory. The ru_maxrss that wait4
// reports for a child that Go started (vfork) begins at nfbench's own
// high-water mark; GNU time forks the tool from its own small process, so
// its %M is the tool's own peak. It adds about a millisecond of fork and
// exec, so wall and CPU times come from separate, direct runs.
const timeBin = "/usr/bin/time"

// newEnv makes a fresh namespace and scratch directory; done removes both.
func newEnv(s Size) (*Env, func(), error) {
	ns, err := nsutil.New()
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "nfbench-")
	if err != nil {
		ns.Close()
		return nil, nil, err
	}
	return &Env{NS: ns, Size: s, Dir: dir}, func() {
		ns.Close()
		os.RemoveAll(dir)
	}, nil
}

func runCLIPeer(e *Env, p *Peer, probe bool) (Sample, error) {
	argv, stdin, err := p.CLI(e)
	if err != nil {
		return Sample{}, err
	}
	rssName := filepath.Join(e.Dir, "maxrss")
	if probe {
		argv = append([]string{timeBin, "-f", "%M", "-o", rssName}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	if stdin != "" {
		// A file, not a pipe: no goroutine of ours copies data while the
		// tool runs.
		name := filepath.Join(e.Dir, "stdin")
		if err := os.WriteFile(name, []byte(stdin), 0o600); err != nil {
			return Sample{}, err
		}
		f, err := os.Open(name)
		if err != nil {
			return Sample{}, err
		}
		defer f.Close()
		cmd.Stdin = f
	}
	outName := filepath.Join(e.Dir, "stdout")
	out, err := os.Create(outName)
	if err != nil {
		return Sample{}, err
	}
	defer out.Close()
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = out, &stderr
	t0 := time.Now()
	if err := e.NS.Start(cmd); err != nil {
		return Sample{}, err
	}
	err = cmd.Wait()
	wall := time.Since(t0)
	if err != nil {
		return Sample{}, fmt.Errorf("%s: %w: %.400s", strings.Join(argv, " "), err, stderr.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	smp := Sample{Wall: wall, CPU: cpuTime(ru)}
	if probe {
		b, err := os.ReadFile(rssName)
		if err != nil {
			return smp, err
		}
		if smp.MaxRSS, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err != nil {
			return smp, fmt.Errorf("%s output %q: %w", timeBin, b, err)
		}
	}
	if p.Count != nil {
		b, err := os.ReadFile(outName)
		if err != nil {
			return smp, err
		}
		smp.Count = p.Count(b)
	}
	return smp, nil
}

func runGoPeer(e *Env, w *Workload, p *Peer) (Sample, error) {
	exe, err := os.Executable()
	if err != nil {
		return Sample{}, err
	}
	cmd := exec.Command(exe)
	// The test binary would otherwise run its tests: it dispatches on the
	// environment variable in TestMain, as main does.
	cmd.Env = append(os.Environ(), childEnv+"="+w.Name+"|"+p.Name+"|"+e.Size.Name)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := e.NS.Start(cmd); err != nil {
		return Sample{}, err
	}
	if err := cmd.Wait(); err != nil {
		return Sample{}, fmt.Errorf("child %s/%s: %w: %.600s", w.Name, p.Name, err, stderr.String())
	}
	var smp Sample
	if err := json.Unmarshal([]byte(stdout.String()), &smp); err != nil {
		return Sample{}, fmt.Errorf("child %s/%s output %.200q: %w", w.Name, p.Name, stdout.String(), err)
	}
	return smp, nil
}

func findPeer(wname, pname string) (*Workload, *Peer) {
	for _, w := range workloads() {
		if w.Name != wname {
			continue
		}
		for i := range w.Peers {
			if w.Peers[i].Name == pname {
				return w, &w.Peers[i]
			}
		}
	}
	return nil, nil
}

// median of each field separately (wall, CPU, memory, allocations).
func median(ss []Sample) Sample {
	if len(ss) == 0 {
		return Sample{}
	}
	pick := func(f func(Sample) float64) float64 {
		v := make([]float64, len(ss))
		for i, s := range ss {
			v[i] = f(s)
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return Sample{
		Wall:       time.Duration(pick(func(s Sample) float64 { return float64(s.Wall) })),
		CPU:        time.Duration(pick(func(s Sample) float64 { return float64(s.CPU) })),
		MaxRSS:     int64(pick(func(s Sample) float64 { return float64(s.MaxRSS) })),
		Allocs:     uint64(pick(func(s Sample) float64 { return float64(s.Allocs) })),
		AllocBytes: uint64(pick(func(s Sample) float64 { return float64(s.AllocBytes) })),
		Count:      ss[0].Count,
		Factor:     ss[0].Factor,
		Note:       ss[0].Note,
	}
}

// runWorkload measures every peer of w at size s, interleaving the peers
// run by run so that a load change on the machine hits all of them alike.
func runWorkload(ctx context.Context, w *Workload, s Size, runs int, peerRe func(string) bool, logf func(string, ...any)) []Figure {
	figs := make([]Figure, len(w.Peers))
	for i, p := range w.Peers {
		figs[i] = Figure{Workload: w.Name, Size: s.Name, Units: w.Units(s), Unit: w.Unit, Peer: p.Name, Kind: p.Kind}
		switch {
		case w.Skip != nil && w.Skip(s) != "":
			figs[i].Skipped = w.Skip(s)
		case p.Skip != nil && p.Skip(s) != "":
			figs[i].Skipped = p.Skip(s)
		case peerRe != nil && !peerRe(p.Name):
			figs[i].Skipped = "not selected"
		}
	}
	if w.Skip != nil && w.Skip(s) != "" {
		logf("%s [%s]: skipped, %s", w.Name, s.Name, w.Skip(s))
		return figs
	}
	for r := 0; r < runs; r++ {
		for i := range w.Peers {
			f := &figs[i]
			if f.Skipped != "" || f.Err != "" {
				continue
			}
			smp, err := runOnce(ctx, w, &w.Peers[i], s, false)
			if err != nil {
				f.Err = err.Error()
				logf("%s [%s] %s: ERROR %v", w.Name, s.Name, f.Peer, err)
				continue
			}
			f.Samples = append(f.Samples, smp)
			logf("%s [%s] %s run %d: wall %v cpu %v maxrss %d KiB", w.Name, s.Name, f.Peer, r+1, smp.Wall.Round(time.Microsecond), smp.CPU.Round(time.Microsecond), smp.MaxRSS)
		}
	}
	// One more, untimed run of each CLI tool under GNU time for its peak
	// memory (see timeBin).
	_, haveTime := exec.LookPath(timeBin)
	for i := range figs {
		f := &figs[i]
		if f.Kind != "cli" || f.Skipped != "" || f.Err != "" || len(f.Samples) == 0 {
			continue
		}
		if haveTime != nil {
			f.RSSNote = "no " + timeBin + ": peak memory not measured"
			continue
		}
		smp, err := runOnce(ctx, w, &w.Peers[i], s, true)
		if err != nil {
			f.Err = "memory run: " + err.Error()
			logf("%s [%s] %s: ERROR %v", w.Name, s.Name, f.Peer, err)
			continue
		}
		f.probeRSS = smp.MaxRSS
	}
	var nfkit time.Duration
	for i := range figs {
		f := &figs[i]
		if f.Skipped != "" {
			logf("%s [%s] %s: skipped, %s", w.Name, s.Name, f.Peer, f.Skipped)
		}
		if len(f.Samples) > 0 && f.Err == "" {
			f.Runs = len(f.Samples)
			f.Median = median(f.Samples)
			if f.Kind == "cli" {
				f.Median.MaxRSS = f.probeRSS
			}
			f.Verified = true
			if f.Kind == "nfkit" && nfkit == 0 {
				nfkit = f.Median.Wall
			}
		}
	}
	for i := range figs {
		if f := &figs[i]; nfkit > 0 && f.Runs > 0 && f.Median.Wall > 0 {
			f.Ratio = float64(nfkit) / float64(f.Median.Wall)
		}
	}
	return figs
}

var errSkip = errors.New("skipped")
