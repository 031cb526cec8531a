#!/bin/sh
# Reproduces the committed results (as root, from any directory; 18
# minutes on 2 shared CPUs): the host run at small and default size with every
# workload, the large size in its own run, the IPVS workloads in the VM
# runner (this host kernel has no IPVS), merged into results/ and the
# README. Environment: RUNS (default 3), LARGE_RUNS (default 1),
# LARGE_ONLY (workloads measured at the large size). By default the large
# size leaves out iptables/noflush-change and iptables/save: each of their
# runs first loads 620 000 rules with iptables-nft-restore (about two
# minutes here), which puts the large run of those two alone past 20
# minutes; LARGE_ONLY=. measures everything.
set -eu
cd "$(dirname "$0")"
runs=${RUNS:-3}
large_runs=${LARGE_RUNS:-1}
large_only=${LARGE_ONLY:-'^(nft|ipset|conntrack|ipvs)/|^iptables/restore$'}
tmp=$(mktemp -d /tmp/nfbench-run.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

go build -o "$tmp/vmtest" ../cmd/vmtest
# Static, so the same binary runs in the guest (and starts itself there as
# the Go peers' child processes).
CGO_ENABLED=0 go build -o "$tmp/nfbench" ./cmd/nfbench

echo "== host: small, default (-runs $runs)" >&2
"$tmp/nfbench" -scale small,default -runs "$runs" -out "$tmp/host" >/dev/null
echo "== host: large (-runs $large_runs, -only '$large_only')" >&2
"$tmp/nfbench" -scale large -runs "$large_runs" -only "$large_only" -out "$tmp/large" >/dev/null
echo "== VM: IPVS at small, default (-runs $runs)" >&2
VMTEST_TIMEOUT=${VMTEST_TIMEOUT:-90m} VMTEST_MEMORY=${VMTEST_MEMORY:-3072} VMTEST_TOOLS=time \
	"$tmp/vmtest" "$tmp/nfbench" -only ipvs -scale small,default -runs "$runs" -out '' -json-stdout >"$tmp/vm.out"
"$tmp/nfbench" -merge "$tmp/host/results.json,$tmp/large/results.json,$tmp/vm.out" -out results -readme README.md
cp "$tmp/vm.out" results/vm-console.txt
