package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func fig(w, size, peer, kind string, units int, wall time.Duration) Figure {
	return Figure{Workload: w, Size: size, Units: units, Unit: "rules", Peer: peer, Kind: kind, Runs: 3,
		Median: Sample{Wall: wall}, Verified: true}
}

// TestMerge: the VM's measured IPVS figures replace the host's skipped
// ones and are marked; a figure measured in both is an error; a second
// size from another run on the same kernel adds a scaling table.
func TestMerge(t *testing.T) {
	host := &Report{Scales: []string{"default"}, Runs: 3, Machine: Machine{Kernel: "6.18"}, Figures: []Figure{
		fig("nft/load", "default", "nfkit", "nfkit", 1000, time.Second),
		{Workload: "ipvs/apply", Size: "default", Peer: "nfkit", Kind: "nfkit", Skipped: "kernel has no IPVS"},
	}}
	vm := &Report{Scales: []string{"default"}, Runs: 3, Machine: Machine{Kernel: "6.1.0", CPUModel: "QEMU TCG CPU"}, Figures: []Figure{
		fig("ipvs/apply", "default", "nfkit", "nfkit", 20000, 2*time.Second),
		fig("ipvs/apply", "default", "ipvsadm -R", "cli", 20000, 4*time.Second),
	}}
	large := &Report{Scales: []string{"large"}, Runs: 1, Machine: Machine{Kernel: "6.18"}, Figures: []Figure{
		fig("nft/load", "large", "nfkit", "nfkit", 10000, 12*time.Second),
	}}
	// The console of the VM runner: noise, then the marked JSON.
	b, err := json.Marshal(vm)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(t.TempDir(), "vm.out")
	console := "boot noise\nipvs/apply [default] nfkit run 1: ...\n" + jsonBegin + "\n" + string(b) + "\n" + jsonEnd + "\n"
	if err := os.WriteFile(name, []byte(console), 0o644); err != nil {
		t.Fatal(err)
	}
	vmBack, err := readReport(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := mergeReports(host, large, vmBack); err != nil {
		t.Fatal(err)
	}
	if strings.Join(host.Scales, ",") != "default,large" {
		t.Errorf("scales %v", host.Scales)
	}
	if len(host.Parts) != 2 || host.Parts[0].Label != "" || host.Parts[1].Label != "VM" {
		t.Fatalf("parts %+v", host.Parts)
	}
	var ipvs []Figure
	for _, f := range host.Figures {
		if f.Workload == "ipvs/apply" {
			ipvs = append(ipvs, f)
		}
	}
	if len(ipvs) != 2 || ipvs[0].Skipped != "" || ipvs[0].Part != 2 || ipvs[0].Median.Wall != 2*time.Second {
		t.Fatalf("ipvs figures after merge: %+v", ipvs)
	}
	md := markdown(host)
	for _, want := range []string{
		"| ipvs/apply [VM] | 20000 rules | **nfkit** | 2 s |",
		"Rows marked [VM]",
		"only the nfkit/peer ratios",
		"#### nft/load: wall time per rule",
		"| **nfkit** | 1 ms | 1.2 ms | x1.20 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "skipped, kernel has no IPVS") {
		t.Errorf("the host's skip survived the merge:\n%s", md)
	}
	if err := writeScalingChart(filepath.Join(t.TempDir(), "scaling.png"), host); err != nil {
		t.Fatal(err)
	}
	// The same figure measured twice is refused, not overwritten.
	again := &Report{Scales: []string{"default"}, Machine: Machine{Kernel: "6.18"}, Figures: []Figure{fig("nft/load", "default", "nfkit", "nfkit", 1000, time.Second)}}
	if err := mergeReports(host, again); err == nil {
		t.Error("merging a figure measured in both reports succeeded")
	}
}

func TestReadReportCutShort(t *testing.T) {
	name := filepath.Join(t.TempDir(), "vm.out")
	if err := os.WriteFile(name, []byte(jsonBegin+"\n{\"scales\":"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readReport(name); err == nil {
		t.Error("a console cut short was accepted")
	}
}
