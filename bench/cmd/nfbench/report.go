package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Machine describes where the figures were taken.
type Machine struct {
	Kernel     string            `json:"kernel"`
	CPUs       int               `json:"cpus"`
	CPUModel   string            `json:"cpu_model"`
	Go         string            `json:"go"`
	Tools      map[string]string `json:"tools"`
	LoadBefore string            `json:"load_before"`
	LoadAfter  string            `json:"load_after"`
	// LoadDuring summarises the 1-minute load average sampled during the
	// run (min, median, max).
	LoadDuring string `json:"load_during,omitempty"`
}

// sampleLoad reads the 1-minute load average every interval until the
// returned function is called, which summarises the samples. One small
// file read per interval in the parent process: nothing measurable.
func sampleLoad(interval time.Duration) func() string {
	var samples []float64
	done := make(chan struct{})
	finished := make(chan struct{})
	read := func() {
		b, err := os.ReadFile("/proc/loadavg")
		if err != nil {
			return
		}
		var v float64
		if _, err := fmt.Sscan(string(b), &v); err == nil {
			samples = append(samples, v)
		}
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		read()
		for {
			select {
			case <-done:
				read()
				return
			case <-t.C:
				read()
			}
		}
	}()
	return func() string {
		close(done)
		<-finished
		return summarizeLoad(samples, interval)
	}
}

func summarizeLoad(v []float64, interval time.Duration) string {
	if len(v) == 0 {
		return ""
	}
	v = slices.Clone(v)
	slices.Sort(v)
	return fmt.Sprintf("min %.2f, median %.2f, max %.2f (%d samples, every %v)", v[0], v[len(v)/2], v[len(v)-1], len(v), interval)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(s)
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func machineInfo(ctx context.Context) Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), Tools: map[string]string{}, LoadBefore: loadAvg()}
	if out, err := exec.CommandContext(ctx, "uname", "-r").Output(); err == nil {
		m.Kernel = firstLine(string(out))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	for _, t := range [][]string{
		{"nft", "--version"}, {"iptables-nft", "--version"}, {"iptables-legacy", "--version"},
		{"ipset", "--version"}, {"conntrack", "--version"}, {"ipvsadm", "-h"},
	} {
		// Some tools exit non-zero on -h; the first line still names them.
		out, err := exec.CommandContext(ctx, t[0], t[1:]...).CombinedOutput()
		if len(out) == 0 && err != nil {
			m.Tools[t[0]] = "not available"
			continue
		}
		m.Tools[t[0]] = firstLine(string(out))
		// ipvsadm -h may first print modprobe's complaint (no ip_vs).
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, t[0]+" v") {
				m.Tools[t[0]] = strings.TrimSpace(l)
				break
			}
		}
	}
	return m
}

func writeJSON(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(name, append(b, '\n'), 0o644)
}

// fmtDur prints a duration with three significant digits.
func fmtDur(d time.Duration) string {
	switch s := d.Seconds(); {
	case d == 0:
		return "-"
	case s >= 100:
		return fmt.Sprintf("%.0f s", s)
	case s >= 1:
		return fmt.Sprintf("%.3g s", s)
	case s >= 1e-3:
		return fmt.Sprintf("%.3g ms", s*1e3)
	default:
		return fmt.Sprintf("%.3g µs", s*1e6)
	}
}

func fmtCount(n uint64) string {
	switch {
	case n == 0:
		return "-"
	case n >= 1e6:
		return fmt.Sprintf("%.3gM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.3gk", float64(n)/1e3)
	default:
		return fmt.Sprint(n)
	}
}

func fmtRSS(kb int64) string {
	if kb == 0 {
		return "-"
	}
	if kb >= 1000*1024 {
		return fmt.Sprintf("%.3g GiB", float64(kb)/(1024*1024))
	}
	return fmt.Sprintf("%.3g MiB", float64(kb)/1024)
}

func perUnit(f Figure) string {
	if f.Runs == 0 || f.Units == 0 {
		return "-"
	}
	return fmtDur(f.Median.Wall / time.Duration(f.Units))
}

func markdown(r *Report) string {
	var sb strings.Builder
	m := r.Machine
	fmt.Fprintf(&sb, "Measured %s (%s), %s, each in a fresh network namespace.\n\n",
		r.Started.UTC().Format("2006-01-02 15:04 MST"), r.Duration, medianOf(r.Runs))
	fmt.Fprintf(&sb, "Machine: kernel %s, %d CPUs (%s), %s; %s\n\n", m.Kernel, m.CPUs, m.CPUModel, m.Go, loadText(m))
	sb.WriteString("Tools:")
	for _, k := range []string{"nft", "iptables-nft", "iptables-legacy", "ipset", "conntrack", "ipvsadm"} {
		fmt.Fprintf(&sb, " `%s`;", m.Tools[k])
	}
	sb.WriteString("\n\n")
	for _, p := range r.Parts {
		sb.WriteString(partText(p))
	}
	sb.WriteString("nfkit/peer is nfkit's median wall time over the peer's (below 1: nfkit is faster). ")
	sb.WriteString("Peak RSS is the max resident set of the process doing the work; allocations are counted for Go peers only. ")
	sb.WriteString("A `*` marks a figure extrapolated from part of the work (see notes).\n")
	for _, sn := range r.Scales {
		s := sizes[sn]
		fmt.Fprintf(&sb, "\n### Scale %s: %d services x %d endpoints, %d set entries, %d flows\n\n", sn, s.Services, s.Endpoints, s.Entries, s.Flows)
		sb.WriteString("| workload | size | peer | wall | CPU | peak RSS | allocs | per unit | nfkit/peer |\n")
		sb.WriteString("|---|---:|---|---:|---:|---:|---:|---:|---:|\n")
		var notes, skips []string
		for _, f := range r.Figures {
			if f.Size != sn {
				continue
			}
			wname := f.Workload + partMark(r, f)
			switch {
			case f.Skipped != "":
				skips = append(skips, fmt.Sprintf("- %s, %s: skipped, %s", wname, f.Peer, f.Skipped))
				continue
			case f.Err != "":
				skips = append(skips, fmt.Sprintf("- %s, %s: FAILED, %s", wname, f.Peer, f.Err))
				continue
			case f.Runs == 0:
				continue
			}
			star := ""
			if f.Median.Factor > 1 {
				star = "*"
			}
			if f.Median.Note != "" || star != "" {
				n := f.Median.Note
				if star != "" {
					n = strings.TrimPrefix(fmt.Sprintf("%s; extrapolated x%.0f", n, f.Median.Factor), "; ")
				}
				notes = append(notes, fmt.Sprintf("- %s, %s: %s", f.Workload, f.Peer, n))
			}
			if f.RSSNote != "" {
				notes = append(notes, fmt.Sprintf("- %s, %s: %s", f.Workload, f.Peer, f.RSSNote))
			}
			ratio := "-"
			if f.Ratio > 0 && f.Kind != "nfkit" {
				ratio = fmtRatio(f.Ratio)
			}
			allocs := "-"
			if f.Kind != "cli" {
				allocs = fmtCount(f.Median.Allocs)
			}
			name := f.Peer
			if f.Kind == "nfkit" {
				name = "**nfkit**"
			}
			fmt.Fprintf(&sb, "| %s | %d %s | %s | %s%s | %s%s | %s | %s | %s | %s |\n",
				wname, f.Units, f.Unit, name, fmtDur(f.Median.Wall), star, fmtDur(f.Median.CPU), star,
				fmtRSS(f.Median.MaxRSS), allocs, perUnit(f), ratio)
		}
		if len(notes) > 0 {
			sb.WriteString("\nNotes:\n" + strings.Join(notes, "\n") + "\n")
		}
		if len(skips) > 0 {
			sb.WriteString("\nNot measured:\n" + strings.Join(skips, "\n") + "\n")
		}
	}
	sb.WriteString(scalingMarkdown(r))
	return sb.String()
}

func loadText(m Machine) string {
	t := fmt.Sprintf("load average before %s, after %s", m.LoadBefore, m.LoadAfter)
	if m.LoadDuring != "" {
		t += "; 1-minute load average during the run " + m.LoadDuring
	}
	return t + ". The machine is shared (other engineers' builds and tests ran during the measurements): compare ratios, which are measured in the same run with the peers interleaved, rather than absolute times."
}

// partText describes a run merged in with -merge.
func partText(p Part) string {
	m := p.Machine
	what := fmt.Sprintf("%s at scale %s", strings.Join(p.Workloads, ", "), strings.Join(p.Scales, ","))
	if p.Label == "VM" {
		return fmt.Sprintf("Rows marked [VM] (%s) were measured in the VM runner (cmd/vmtest, `-json-stdout`, merged with `-merge`), because this host kernel has no IPVS: "+
			"Debian kernel %s under qemu TCG, %d vCPUs (%s), %s, %s, measured %s (%s); guest load average before %s, after %s. "+
			"Tools in the guest: `%s`. Under TCG every guest instruction is emulated, so absolute times there are several times native ones and mean nothing on their own: "+
			"only the nfkit/peer ratios (same guest, same run, peers interleaved) count.\n\n",
			what, m.Kernel, m.CPUs, m.CPUModel, m.Go, medianOf(p.Runs), p.Started, p.Duration, m.LoadBefore, m.LoadAfter, m.Tools["ipvsadm"])
	}
	mark := ""
	if p.Label != "" {
		mark = fmt.Sprintf("Rows marked [%s]: ", p.Label)
	}
	return fmt.Sprintf("%s%s measured in a separate run, %s (%s), %s, kernel %s; %s\n\n",
		mark, what, p.Started, p.Duration, medianOf(p.Runs), m.Kernel, loadText(m))
}

func medianOf(runs int) string {
	if runs == 1 {
		return "a single run (no median)"
	}
	return fmt.Sprintf("median of %d runs", runs)
}

func partMark(r *Report, f Figure) string {
	if f.Part > 0 && f.Part <= len(r.Parts) && r.Parts[f.Part-1].Label != "" {
		return " [" + r.Parts[f.Part-1].Label + "]"
	}
	return ""
}

// fmtRatio keeps two significant digits for small ratios.
func fmtRatio(r float64) string {
	if r < 0.1 {
		return fmt.Sprintf("%.2g", r)
	}
	return fmt.Sprintf("%.2f", r)
}
