//go:build vmtest

// Integration tests against a real IPVS. This project's host kernel has
// none, so they run in the second kernel:
//
//	go build -o /tmp/vmtest ./cmd/vmtest
//	CGO_ENABLED=0 go test -tags vmtest -exec /tmp/vmtest ./ipvs/
package ipvs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nfkit/nfkit/internal/nstest"
)

// dialNS gives a Conn in a fresh namespace; without IPVS it is
// nstest.Unavailable (a failure under CI=true).
func dialNS(t *testing.T) (*Conn, *nstest.NS) {
	t.Helper()
	ns := nstest.New(t)
	nstest.RequireTool(t, "ipvsadm")
	c, err := Dial(&Config{NetNS: ns.FD()})
	if errors.Is(err, ErrNotSupported) {
		nstest.Unavailable(t, err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, ns
}

func saveText(t *testing.T, svcs []Service) string {
	t.Helper()
	var b bytes.Buffer
	if err := Save(&b, svcs); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// ipvsadm writes, nfkit reads: every shape ipvsadm can save comes back
// identical through ListServices and Save.
func TestVMIpvsadmWritesNfkitReads(t *testing.T) {
	c, ns := dialNS(t)
	ns.RunInput(t, ipvsadmSaved, "ipvsadm", "-R")
	svcs, err := c.ListServices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := saveText(t, svcs); got != ipvsadmSaved {
		t.Errorf("nfkit reads ipvsadm's rules as:\n%s\nwant:\n%s", got, ipvsadmSaved)
	}
	if got := ns.Run(t, "ipvsadm", "-Sn"); got != ipvsadmSaved {
		t.Errorf("fixture drifted from this ipvsadm:\n%s", got)
	}
}

// nfkit writes, ipvsadm reads.
func TestVMNfkitWritesIpvsadmReads(t *testing.T) {
	c, ns := dialNS(t)
	want, err := ParseRules(strings.NewReader(ipvsadmSaved))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(context.Background(), want, nil); err != nil {
		t.Fatal(err)
	}
	if got := ns.Run(t, "ipvsadm", "-Sn"); got != ipvsadmSaved {
		t.Errorf("ipvsadm -Sn after nfkit Apply:\n%s\nwant:\n%s", got, ipvsadmSaved)
	}
	// Thresholds and a mixed-family tunnel destination (IPv6 real server
	// behind an IPv4 service) are not in ipvsadm's save format: check
	// them by reading back.
	k := want[0].ServiceKey
	d := Destination{DestinationKey: DestinationKey{Addr: netip.MustParseAddr("2001:db8::7"), Port: 80}, Forward: Tunnel, Weight: 2,
		UpperThreshold: 100, LowerThreshold: 10}
	if err := c.AddDestination(context.Background(), k, &d); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetService(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, g := range got.Destinations {
		if g.DestinationKey == d.DestinationKey {
			found = true
			if !sameDestConfig(&g, &d) || g.State == nil || !g.State.Has64 {
				t.Errorf("read back %+v, want %+v with state", g, d)
			}
		}
	}
	if !found {
		t.Errorf("IPv6 destination of an IPv4 service missing: %+v", got.Destinations)
	}
	if out := ns.Run(t, "ipvsadm", "-Ln", "--thresholds", "-t", "192.0.2.1:80"); !strings.Contains(out, "[2001:db8::7]:80") ||
		!strings.Contains(out, "100") {
		t.Errorf("ipvsadm does not see the destination:\n%s", out)
	}
}

func TestVMApplyMinimalAndRollback(t *testing.T) {
	c, ns := dialNS(t)
	ctx := context.Background()
	base := []Service{
		svc("192.0.2.1", 80, RoundRobin, dst("198.51.100.1", 1), dst("198.51.100.2", 1)),
		svc("192.0.2.2", 80, RoundRobin, dst("198.51.100.3", 1)),
	}
	if _, err := c.Apply(ctx, base, nil); err != nil {
		t.Fatal(err)
	}
	applied, err := c.Apply(ctx, base, nil)
	if err != nil || len(applied) != 0 {
		t.Fatalf("re-applying the same state changed %v (%v)", applied, err)
	}
	before := ns.Run(t, "ipvsadm", "-Sn")
	// A plan whose last step fails in the kernel (unknown persistence
	// engine passes validation): with Rollback, nothing stays.
	next := []Service{
		svc("192.0.2.1", 80, LeastConnection, dst("198.51.100.1", 4)),
		svc("192.0.2.3", 80, RoundRobin, dst("198.51.100.4", 1)),
	}
	bad := svc("192.0.2.9", 80, RoundRobin)
	bad.PE, bad.Timeout = "nosuchpe", time.Minute
	next = append(next, bad)
	_, err = c.Apply(ctx, next, &ApplyOptions{Rollback: true})
	var ae *ApplyError
	if !errors.As(err, &ae) || !ae.RolledBack || ae.RollbackErr != nil || ae.Failed.Service.Addr != bad.Addr {
		t.Fatalf("Apply with a failing step: %v", err)
	}
	if after := ns.Run(t, "ipvsadm", "-Sn"); after != before {
		t.Errorf("rollback left:\n%s\nwant:\n%s", after, before)
	}
	// Without the bad service the same plan applies, minimally.
	applied, err = c.Apply(ctx, next[:2], nil)
	if err != nil {
		t.Fatal(err)
	}
	// add service + its destination, update service, update destination,
	// delete destination, delete service (its destination goes with it).
	if len(applied) != 6 {
		t.Errorf("applied %d changes, want 6: %v", len(applied), applied)
	}
	want := "-A -t 192.0.2.1:80 -s lc\n-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 4\n" +
		"-A -t 192.0.2.3:80 -s rr\n-a -t 192.0.2.3:80 -r 198.51.100.4:8080 -m -w 1\n"
	if got := ns.Run(t, "ipvsadm", "-Sn"); got != want {
		t.Errorf("after Apply:\n%s\nwant:\n%s", got, want)
	}
}

func TestVMErrorsAndBatch(t *testing.T) {
	c, _ := dialNS(t)
	ctx := context.Background()
	k := ServiceKey{Protocol: TCP, Addr: netip.MustParseAddr("192.0.2.1"), Port: 80}
	if err := c.DeleteService(ctx, k); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("delete missing service: %v", err)
	}
	if _, err := c.GetService(ctx, k); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("get missing service: %v", err)
	}
	s := Service{ServiceKey: k, Scheduler: RoundRobin}
	if err := c.AddService(ctx, &s); err != nil {
		t.Fatal(err)
	}
	if err := c.AddService(ctx, &s); !errors.Is(err, fs.ErrExist) {
		t.Errorf("duplicate add: %v", err)
	}
	b := c.NewBatch()
	b.AddDestination(k, &Destination{DestinationKey: DestinationKey{Addr: netip.MustParseAddr("198.51.100.1"), Port: 80}, Weight: 1})
	b.AddService(&s) // fails: exists
	b.AddDestination(k, &Destination{DestinationKey: DestinationKey{Addr: netip.MustParseAddr("198.51.100.2"), Port: 80}, Weight: 1})
	res, err := b.Commit(ctx)
	var ne *Error
	if !errors.As(err, &ne) || ne.Index != 1 || !errors.Is(err, fs.ErrExist) {
		t.Fatalf("batch error %v", err)
	}
	// All three went out in one sendmsg, so the third was applied on its
	// own even though the batch stops on error.
	if res[0].Err != nil || res[1].Err == nil || res[2].Err != nil {
		t.Errorf("results %+v", res)
	}
	dests, err := c.ListDestinations(ctx, k)
	if err != nil || len(dests) != 2 {
		t.Errorf("after partial batch: %v %v", dests, err)
	}
}

func TestVMConfigDaemonsInfo(t *testing.T) {
	c, ns := dialNS(t)
	ctx := context.Background()
	info, err := c.Info(ctx)
	if err != nil || info.Version == "" || info.ConnTableSize == 0 {
		t.Fatalf("info %+v %v", info, err)
	}
	if out := ns.Run(t, "ipvsadm", "-Ln"); !strings.Contains(out, fmt.Sprintf("version %s (size=%d)", info.Version, info.ConnTableSize)) {
		t.Errorf("ipvsadm header %q vs %+v", out, info)
	}
	if err := c.SetTimeouts(ctx, Timeouts{TCP: 100 * time.Second, UDP: 30 * time.Second}); err != nil {
		t.Fatal(err)
	}
	to, err := c.Timeouts(ctx)
	if err != nil || to.TCP != 100*time.Second || to.UDP != 30*time.Second || to.TCPFin == 0 {
		t.Errorf("timeouts %+v %v", to, err)
	}
	if out := ns.Run(t, "ipvsadm", "-L", "--timeout"); !strings.Contains(out, fmt.Sprintf("100 %d 30", to.TCPFin/time.Second)) {
		t.Errorf("ipvsadm --timeout: %s", out)
	}
	d := Daemon{State: Master, Interface: "lo", SyncID: 5}
	if err := c.StartDaemon(ctx, &d); err != nil {
		t.Fatal(err)
	}
	ds, err := c.ListDaemons(ctx)
	if err != nil || len(ds) != 1 || ds[0].Interface != "lo" || ds[0].SyncID != 5 || ds[0].State != Master ||
		ds[0].Group != netip.MustParseAddr("224.0.0.81") || ds[0].Port != 8848 {
		t.Errorf("daemons %+v %v", ds, err)
	}
	if out := ns.Run(t, "ipvsadm", "-L", "--daemon"); !strings.Contains(out, "master sync daemon (mcast=lo, syncid=5") {
		t.Errorf("ipvsadm --daemon: %s", out)
	}
	if err := c.StopDaemon(ctx, Master); err != nil {
		t.Fatal(err)
	}
	if ds, err := c.ListDaemons(ctx); err != nil || len(ds) != 0 {
		t.Errorf("after stop: %+v %v", ds, err)
	}
	ns.RunInput(t, ipvsadmSaved, "ipvsadm", "-R")
	if err := c.Zero(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if out := ns.Run(t, "ipvsadm", "-Sn"); out != "" {
		t.Errorf("after Flush: %q", out)
	}
}

func TestMain(m *testing.M) {
	if os.Getenv("VMTEST") != "1" {
		fmt.Fprintln(os.Stderr, "ipvs vmtest suite: run with go test -tags vmtest -exec <vmtest runner>")
	}
	os.Exit(m.Run())
}
