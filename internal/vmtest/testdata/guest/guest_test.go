// Package guest is run by TestRunner inside the vmtest guest through
// `go test -exec`; it is not part of the normal test run (testdata is
// ignored by ./... patterns).
package guest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestIPVS proves the guest is the second kernel with ip_vs loaded.
func TestIPVS(t *testing.T) {
	if os.Getenv("VMTEST") != "1" {
		t.Fatal("not running inside the vmtest guest")
	}
	if _, err := os.Stat("/proc/net/ip_vs"); err != nil {
		t.Fatalf("ip_vs not loaded: %v", err)
	}
	out, err := exec.Command("ipvsadm", "-Ln").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "IP Virtual Server") {
		t.Fatalf("ipvsadm -Ln: %v\n%s", err, out)
	}
	// go test's conventions hold: cwd is the package dir (testdata is
	// there), t.TempDir is writable, CI is passed through.
	b, err := os.ReadFile("testdata/marker.txt")
	if err != nil || strings.TrimSpace(string(b)) != "vmtest testdata" {
		t.Fatalf("testdata/marker.txt: %q %v", b, err)
	}
	if err := os.WriteFile(t.TempDir()+"/f", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("kernel %s, CI=%q", uname(), os.Getenv("CI"))
}

// TestFail fails on purpose: its status must reach go test.
func TestFail(t *testing.T) {
	t.Fatal("failing on purpose")
}

func uname() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(b))
}
