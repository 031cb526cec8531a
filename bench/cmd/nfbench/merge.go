package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Part describes a run whose figures were merged into a report (-merge):
// another invocation on the same machine (e.g. the large scale alone) or
// the VM runner's guest, whose kernel has IPVS.
type Part struct {
	// Label marks the part's rows in the tables ("" for a run on the same
	// kernel as the report's own, whose rows need no mark).
	Label    string   `json:"label,omitempty"`
	Started  string   `json:"started"`
	Duration string   `json:"duration"`
	Runs     int      `json:"runs"`
	Scales   []string `json:"scales"`
	Machine  Machine  `json:"machine"`
	// Workloads lists the workloads it contributed.
	Workloads []string `json:"workloads"`
}

// readReport reads a results.json, or the results printed between the
// jsonBegin and jsonEnd lines of a captured console (-json-stdout in the VM
// runner: the guest's files are lost, its console comes back).
func readReport(name string) (*Report, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	if _, rest, ok := bytes.Cut(b, []byte(jsonBegin)); ok {
		body, _, ok := bytes.Cut(rest, []byte(jsonEnd))
		if !ok {
			return nil, fmt.Errorf("%s: %q without %q (output cut short?)", name, jsonBegin, jsonEnd)
		}
		b = body
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(r.Scales) == 0 {
		return nil, fmt.Errorf("%s: no scales: not an nfbench results.json", name)
	}
	return &r, nil
}

// mergeReports adds the measured figures of each of others into base: a
// figure that base has for the same workload, size and peer is replaced
// only if base did not measure it (skipped or failed), so a merge never
// silently overwrites a measurement; new ones are appended. Skipped
// figures of others are kept only where base has nothing at all.
func mergeReports(base *Report, others ...*Report) error {
	type key struct{ w, s, p string }
	index := func() map[key]int {
		m := map[key]int{}
		for i, f := range base.Figures {
			m[key{f.Workload, f.Size, f.Peer}] = i
		}
		return m
	}
	for _, o := range others {
		part := Part{Started: o.Started.UTC().Format("2006-01-02 15:04 MST"), Duration: o.Duration, Runs: o.Runs, Scales: o.Scales, Machine: o.Machine}
		if o.Machine.Kernel != base.Machine.Kernel {
			part.Label = "VM"
			if !strings.Contains(o.Machine.CPUModel, "QEMU") {
				part.Label = "kernel " + o.Machine.Kernel
			}
		}
		base.Parts = append(base.Parts, part)
		pi := len(base.Parts)
		idx := index()
		for _, f := range o.Figures {
			f.Part = pi
			i, have := idx[key{f.Workload, f.Size, f.Peer}]
			measured := f.Runs > 0 && f.Err == ""
			switch {
			case !have:
				base.Figures = append(base.Figures, f)
				idx[key{f.Workload, f.Size, f.Peer}] = len(base.Figures) - 1
			case !measured:
				continue
			case base.Figures[i].Runs > 0 && base.Figures[i].Err == "":
				return fmt.Errorf("merge: %s [%s] %s measured in both reports", f.Workload, f.Size, f.Peer)
			default:
				base.Figures[i] = f
			}
			if measured && !slices.Contains(part.Workloads, f.Workload) {
				part.Workloads = append(part.Workloads, f.Workload)
			}
		}
		base.Parts[pi-1].Workloads = part.Workloads
		for _, s := range o.Scales {
			if !slices.Contains(base.Scales, s) {
				base.Scales = append(base.Scales, s)
			}
		}
	}
	// Sizes in increasing order, and figures grouped by size in workload
	// order, so merged rows sit where a single run would have put them.
	order := map[string]int{"tiny": 0, "small": 1, "default": 2, "large": 3}
	slices.SortStableFunc(base.Scales, func(a, b string) int { return order[a] - order[b] })
	wl := map[string]int{}
	for i, w := range workloads() {
		wl[w.Name] = i
	}
	slices.SortStableFunc(base.Figures, func(a, b Figure) int {
		if d := order[a.Size] - order[b.Size]; d != 0 {
			return d
		}
		return wl[a.Workload] - wl[b.Workload]
	})
	return nil
}

// runMerge combines the reports in names (the first is the base) and
// writes the outputs as a measuring run would.
func runMerge(names []string, o Options) error {
	if len(names) < 2 {
		return fmt.Errorf("-merge needs at least two files, got %q", names)
	}
	var rs []*Report
	for _, n := range names {
		r, err := readReport(n)
		if err != nil {
			return err
		}
		rs = append(rs, r)
	}
	if err := mergeReports(rs[0], rs[1:]...); err != nil {
		return err
	}
	return writeOutputs(rs[0], o)
}
