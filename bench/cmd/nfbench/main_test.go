package main

import (
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	// Go peers run in child processes of the test binary, as of nfbench.
	if spec := os.Getenv(childEnv); spec != "" {
		if err := runChild(spec); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// unavailable skips, except in CI where a missing prerequisite is a failure.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("prerequisite missing in CI: "+format, args...)
	}
	t.Skipf(format, args...)
}

func requireEnv(t *testing.T) {
	if os.Geteuid() != 0 {
		unavailable(t, "needs root (network namespaces)")
	}
	for _, tool := range []string{"nft", "iptables-nft-restore", "iptables-legacy-restore", "iptables-nft-save", "iptables-legacy-save", "iptables-nft", "ipset", "conntrack", timeBin} {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable(t, "needs %s", tool)
		}
	}
}

// TestSmoke runs every workload and peer once at the tiny size: each run
// is checked in its namespace (objects counted after the run), so a peer
// that did not do the work fails here.
func TestSmoke(t *testing.T) {
	requireEnv(t)
	dir := t.TempDir()
	rep, err := Run(context.Background(), Options{Out: dir, Runs: 1, Scales: []string{"tiny"}, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, w := range workloads() {
		want += len(w.Peers)
	}
	if len(rep.Figures) != want {
		t.Fatalf("%d figures, want one per workload and peer (%d)", len(rep.Figures), want)
	}
	for _, f := range rep.Figures {
		name := f.Workload + " / " + f.Peer
		if f.Skipped != "" {
			// Only IPVS may be missing (this host kernel has none).
			if strings.HasPrefix(f.Workload, "ipvs/") && strings.Contains(f.Skipped, "IPVS") {
				continue
			}
			t.Errorf("%s skipped: %s", name, f.Skipped)
			continue
		}
		if f.Err != "" || !f.Verified || f.Runs != 1 {
			t.Errorf("%s: runs %d verified %v error %s", name, f.Runs, f.Verified, f.Err)
			continue
		}
		if f.Median.Wall <= 0 || f.Median.MaxRSS <= 0 {
			t.Errorf("%s: wall %v maxrss %d", name, f.Median.Wall, f.Median.MaxRSS)
		}
		if f.Kind != "cli" && f.Median.Allocs == 0 {
			t.Errorf("%s: Go peer with no allocations counted", name)
		}
		if f.Kind != "nfkit" && f.Ratio <= 0 {
			t.Errorf("%s: no nfkit/peer ratio", name)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || len(back.Figures) != want {
		t.Fatalf("results.json: %d figures, %v", len(back.Figures), err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range workloads() {
		if !strings.Contains(string(md), "| "+w.Name+" |") && !strings.HasPrefix(w.Name, "ipvs/") {
			t.Errorf("report.md has no row for %s", w.Name)
		}
	}
	f, err := os.Open(filepath.Join(dir, "chart.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dy() < 20*16 {
		t.Errorf("chart is %v: too small for the bars", img.Bounds())
	}
}

// TestChecksFail makes sure the checks can fail: after the setup alone,
// with no peer doing the work, every workload's check must complain.
func TestChecksFail(t *testing.T) {
	requireEnv(t)
	s := sizes["tiny"]
	for _, w := range workloads() {
		if w.Skip != nil && w.Skip(s) != "" {
			continue
		}
		t.Run(w.Name, func(t *testing.T) {
			err := func() error {
				e, done, err := newEnv(s)
				if err != nil {
					t.Fatal(err)
				}
				defer done()
				if w.Setup != nil {
					if err := w.Setup(e); err != nil {
						t.Fatal(err)
					}
				}
				return w.Check(e, "nothing", Sample{})
			}()
			if err == nil {
				t.Fatalf("check passed although no peer did %s", w.Name)
			}
			t.Logf("check refused as expected: %v", err)
		})
	}
}
