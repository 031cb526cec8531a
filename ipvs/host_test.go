//go:build !vmtest

package ipvs

import (
	"errors"
	"os"
	"testing"

	"github.com/nfkit/nfkit/internal/nstest"
)

// TestNotSupportedOnThisKernel runs where IPVS is absent (this project's
// host kernel has none): Dial must fail with ErrNotSupported, never
// succeed silently. Where IPVS exists it is checked by the vmtest suite.
func TestNotSupportedOnThisKernel(t *testing.T) {
	if _, err := os.Stat("/proc/net/ip_vs"); err == nil {
		t.Skip("this kernel has IPVS; the ErrNotSupported path is checked on kernels without it")
	}
	ns := nstest.New(t)
	c, err := Dial(&Config{NetNS: ns.FD()})
	if err == nil {
		c.Close()
		t.Fatal("Dial succeeded on a kernel without IPVS")
	}
	if !errors.Is(err, ErrNotSupported) {
		t.Fatalf("Dial: %v, want ErrNotSupported", err)
	}
	if _, err := Dial(nil); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("Dial(nil): %v", err)
	}
}
