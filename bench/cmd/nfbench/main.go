// Command nfbench measures nfkit against the CLI tools and the other Go
// libraries on identical workloads, side by side in one run, each run in a
// fresh throwaway network namespace, and writes results.json, report.md
// and chart.png.
//
//	cd bench && sudo go run ./cmd/nfbench -out results
//
// Flags: -runs N (median of N runs), -scale tiny|small|default|large (or a
// comma-separated list, e.g. small,default,large for the scaling table),
// -only REGEXP (workload names, e.g. 'nft/|ipset/'), -peers REGEXP,
// -json-stdout (results.json on stdout too, for the VM runner, whose
// guest files are lost), -merge A,B (combine runs: the host's with the
// VM's IPVS figures, or a separate large-size run; see run.sh).
//
// How things are measured (see README.md): CLI tools are started from a
// thread inside the namespace (no wrapper process); wall time is fork to
// exit, CPU time and peak memory are the child's own rusage (utime+stime,
// ru_maxrss). Go libraries, nfkit included, run in a child process of
// nfbench started inside the namespace: it builds its inputs and opens its
// connections off the clock, then times the one operation; CPU time is
// getrusage(RUSAGE_SELF) delta (all threads, GC included) plus
// RUSAGE_CHILDREN for libraries that exec a binary; peak memory is the
// process's ru_maxrss (inputs and Go runtime included); allocations are
// the runtime.MemStats Mallocs/TotalAlloc delta around the operation.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

func workloads() []*Workload {
	var ws []*Workload
	ws = append(ws, nftWorkloads()...)
	ws = append(ws, iptablesWorkloads()...)
	ws = append(ws, ipsetWorkloads()...)
	ws = append(ws, ctWorkloads()...)
	ws = append(ws, ipvsWorkloads()...)
	return ws
}

// Options are the command's flags.
type Options struct {
	Out    string
	Runs   int
	Scales []string
	Only   string
	Peers  string
	Quiet  bool
	// Readme, if set, gets the report between its nfbench markers and
	// chart.png beside it.
	Readme string
	// From re-renders a results.json instead of measuring.
	From string
	// JSONStdout also prints results.json on stdout between jsonBegin
	// and jsonEnd lines: files written in the VM runner's guest are lost,
	// its console is all that comes back.
	JSONStdout bool
}

const (
	jsonBegin = "--- nfbench results.json begin ---"
	jsonEnd   = "--- nfbench results.json end ---"
)

func main() {
	if spec := os.Getenv(childEnv); spec != "" {
		if err := runChild(spec); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	var o Options
	var scale string
	flag.StringVar(&o.Out, "out", "results", "output directory (results.json, report.md, chart.png)")
	flag.IntVar(&o.Runs, "runs", 5, "runs per peer and workload (median reported)")
	flag.StringVar(&scale, "scale", "default", "tiny|small|default|large, or a comma-separated list")
	flag.StringVar(&o.Only, "only", "", "regexp of workload names to run (e.g. 'nft/|ipset/')")
	flag.StringVar(&o.Peers, "peers", "", "regexp of peer names to run (nfkit always runs)")
	flag.StringVar(&o.Readme, "readme", "", "also put the report into this README (between the nfbench markers) and chart.png beside it")
	flag.StringVar(&o.From, "from", "", "re-render this results.json instead of measuring")
	var merge string
	flag.StringVar(&merge, "merge", "", "comma-separated results.json files (or captured -json-stdout consoles) to combine, the first as the base; writes -out and -readme without measuring")
	flag.BoolVar(&o.JSONStdout, "json-stdout", false, "also print results.json on stdout between marker lines (for the VM runner; see -merge)")
	flag.Parse()
	o.Scales = strings.Split(scale, ",")
	if merge != "" {
		if err := runMerge(strings.Split(merge, ","), o); err != nil {
			fmt.Fprintln(os.Stderr, "nfbench:", err)
			os.Exit(1)
		}
		return
	}
	if o.From != "" {
		var rep Report
		b, err := os.ReadFile(o.From)
		if err == nil {
			err = json.Unmarshal(b, &rep)
		}
		if err == nil {
			err = writeOutputs(&rep, o)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "nfbench:", err)
			os.Exit(1)
		}
		return
	}
	if _, err := Run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "nfbench:", err)
		os.Exit(1)
	}
}

// Report is everything one invocation measured.
type Report struct {
	Started  time.Time `json:"started"`
	Duration string    `json:"duration"`
	Machine  Machine   `json:"machine"`
	Runs     int       `json:"runs"`
	Scales   []string  `json:"scales"`
	Figures  []Figure  `json:"figures"`
	// Parts are the runs merged in with -merge (Figure.Part indexes them
	// from 1; 0 is this report's own run).
	Parts []Part `json:"parts,omitempty"`
}

// Run measures the selected workloads and writes the results into o.Out.
func Run(ctx context.Context, o Options) (*Report, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("needs root (network namespaces, netfilter): run with sudo")
	}
	var only, peers *regexp.Regexp
	var err error
	if o.Only != "" {
		if only, err = regexp.Compile(o.Only); err != nil {
			return nil, fmt.Errorf("-only: %w", err)
		}
	}
	var peerOK func(string) bool
	if o.Peers != "" {
		if peers, err = regexp.Compile(o.Peers); err != nil {
			return nil, fmt.Errorf("-peers: %w", err)
		}
		peerOK = func(n string) bool { return n == "nfkit" || peers.MatchString(n) }
	}
	if o.Runs < 1 {
		return nil, errors.New("-runs must be at least 1")
	}
	logf := func(format string, args ...any) {
		if !o.Quiet {
			fmt.Fprintf(os.Stderr, format+"\n", args...)
		}
	}
	rep := &Report{Started: time.Now(), Runs: o.Runs, Scales: o.Scales}
	rep.Machine = machineInfo(ctx)
	stopLoad := sampleLoad(10 * time.Second)
	for _, sn := range o.Scales {
		s, ok := sizes[sn]
		if !ok {
			return nil, fmt.Errorf("-scale: unknown size %q", sn)
		}
		for _, w := range workloads() {
			if only != nil && !only.MatchString(w.Name) {
				continue
			}
			rep.Figures = append(rep.Figures, runWorkload(ctx, w, s, o.Runs, peerOK, logf)...)
		}
	}
	rep.Duration = time.Since(rep.Started).Round(time.Second).String()
	rep.Machine.LoadAfter = loadAvg()
	rep.Machine.LoadDuring = stopLoad()
	if err := writeOutputs(rep, o); err != nil {
		return rep, err
	}
	if !o.Quiet {
		fmt.Print(markdown(rep))
	}
	if o.JSONStdout {
		b, err := json.Marshal(rep)
		if err != nil {
			return rep, err
		}
		fmt.Printf("\n%s\n%s\n%s\n", jsonBegin, b, jsonEnd)
	}
	return rep, nil
}

const (
	beginMark = "<!-- nfbench:begin -->"
	endMark   = "<!-- nfbench:end -->"
)

func writeOutputs(rep *Report, o Options) error {
	if o.Out != "" {
		if err := os.MkdirAll(o.Out, 0o755); err != nil {
			return err
		}
		if o.From == "" {
			if err := writeJSON(filepath.Join(o.Out, "results.json"), rep); err != nil {
				return err
			}
		}
		if err := os.WriteFile(filepath.Join(o.Out, "report.md"), []byte(markdown(rep)), 0o644); err != nil {
			return err
		}
		if err := writeCharts(o.Out, rep); err != nil {
			return err
		}
		written := "report.md and the charts"
		if o.From == "" {
			written = "results.json, " + written
		}
		fmt.Fprintf(os.Stderr, "wrote %s in %s\n", written, o.Out)
	}
	if o.Readme == "" {
		return nil
	}
	b, err := os.ReadFile(o.Readme)
	if err != nil {
		return err
	}
	head, rest, ok1 := strings.Cut(string(b), beginMark)
	_, tail, ok2 := strings.Cut(rest, endMark)
	if !ok1 || !ok2 {
		return fmt.Errorf("%s has no %s ... %s markers", o.Readme, beginMark, endMark)
	}
	body := head + beginMark + "\n" + markdown(rep) + "\n![chart](chart.png)\n"
	if len(rep.Scales) > 1 {
		body += "\n![scaling](scaling.png)\n"
	}
	body += endMark + tail
	if err := os.WriteFile(o.Readme, []byte(body), 0o644); err != nil {
		return err
	}
	return writeCharts(filepath.Dir(o.Readme), rep)
}

// writeCharts writes chart.png (wall times at one size) and, when more
// than one size was measured, scaling.png (per-unit cost by size).
func writeCharts(dir string, rep *Report) error {
	if err := writeChart(filepath.Join(dir, "chart.png"), rep); err != nil {
		return err
	}
	if len(rep.Scales) < 2 {
		return nil
	}
	return writeScalingChart(filepath.Join(dir, "scaling.png"), rep)
}
