package nstest

import (
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netns"
)

func TestNamespaceIsIsolatedAndRemoved(t *testing.T) {
	RequireRoot(t)
	RequireTool(t, "nft")
	ns, err := Create("nfkit-iso")
	require.NoError(t, err)
	_, err = ns.Exec("nft", "add", "table", "inet", "nstest_probe")
	require.NoError(t, err)
	require.Contains(t, ns.Run(t, "nft", "list", "tables"), "nstest_probe")

	host, err := hostExec("nft", "list", "tables")
	require.NoError(t, err)
	require.NotContains(t, host, "nstest_probe", "the table must not be visible in the root namespace")

	path := ns.Path()
	_, err = os.Stat(path)
	require.NoError(t, err)
	require.NoError(t, ns.Close())
	_, err = os.Stat(path)
	require.True(t, os.IsNotExist(err), "namespace bind mount must be gone after Close")
}

func TestDoRestoresThread(t *testing.T) {
	ns := New(t)
	orig, err := netns.Get()
	require.NoError(t, err)
	defer orig.Close()
	var inside netns.NsHandle
	require.NoError(t, ns.Do(func() error {
		h, err := netns.Get()
		inside = h
		return err
	}))
	defer inside.Close()
	other, err := netns.GetFromPath(ns.Path())
	require.NoError(t, err)
	defer other.Close()
	require.True(t, inside.Equal(other), "Do must run inside the namespace")
	now, err := netns.Get()
	require.NoError(t, err)
	defer now.Close()
	require.True(t, now.Equal(orig), "the caller's thread must not have moved")
	require.Panics(t, func() { _ = ns.Do(func() error { panic("boom") }) })
}

func TestConnectVeth(t *testing.T) {
	a, b := New(t), New(t)
	Connect(t, a, "va", netip.MustParsePrefix("192.0.2.1/24"), b, "vb", netip.MustParsePrefix("192.0.2.2/24"))
	out := a.Run(t, "ping", "-c", "1", "-W", "2", "192.0.2.2")
	require.Contains(t, out, "1 received")
	require.False(t, Documentation(netip.MustParseAddr("8.8.8.8")))
	require.True(t, Documentation(netip.MustParseAddr("2001:db8::5")))
}

func TestUnavailableFailsInCI(t *testing.T) {
	if InCI() {
		ft := &fakeTB{TB: t}
		func() {
			defer func() { recover() }()
			Unavailable(ft, "probe")
		}()
		require.True(t, ft.failed, "under CI=true a missing prerequisite must fail")
		require.True(t, strings.Contains(ft.msg, "probe"))
		return
	}
	t.Setenv("CI", "true")
	ft := &fakeTB{TB: t}
	func() {
		defer func() { recover() }()
		Unavailable(ft, "probe")
	}()
	require.True(t, ft.failed)
}

type fakeTB struct {
	testing.TB
	failed bool
	msg    string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = true
	f.msg = format
	if len(args) > 0 {
		f.msg = args[0].(string)
	}
	panic("fatal")
}
func (f *fakeTB) Skip(args ...any) { panic("skip") }
