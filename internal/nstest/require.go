package nstest

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run under CI (CI=true), where a missing
// prerequisite is a failure, not a skip: a green CI run must mean the tests
// really ran.
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable skips the test with reason, or fails it under CI.
func Unavailable(t testing.TB, reason string) {
	t.Helper()
	if InCI() {
		t.Fatalf("prerequisite missing in CI (CI=true turns this skip into a failure): %s", reason)
	}
	t.Skip(reason)
}

// RequireRoot needs effective uid 0 (namespaces and netfilter need
// CAP_NET_ADMIN and CAP_SYS_ADMIN).
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "needs root to create network namespaces")
	}
}

// RequireTool needs a CLI tool on PATH.
func RequireTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		Unavailable(t, "needs the "+name+" command (Debian: see scripts/test for the package list)")
	}
}

// RequireFeature needs probe to succeed; probe checks a kernel feature,
// e.g. by creating the object in a throwaway namespace.
func RequireFeature(t testing.TB, feature string, probe func() error) {
	t.Helper()
	if err := probe(); err != nil {
		Unavailable(t, "kernel feature "+feature+" unavailable: "+err.Error())
	}
}
