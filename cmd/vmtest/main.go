// Command vmtest runs a Go test binary inside a second kernel (Debian's
// linux-image-amd64 under qemu TCG) and exits with its status, for use as
// go test's -exec runner:
//
//	go build -o /tmp/vmtest ./cmd/vmtest
//	CGO_ENABLED=0 go test -exec /tmp/vmtest ./ipvs/
//
// Environment: VMTEST_TIMEOUT (a Go duration; default: the binary's
// -test.timeout plus 2 minutes, or 30 minutes), VMTEST_MODULES (comma
// separated module name patterns replacing the default list), VMTEST_TOOLS
// (comma separated extra host commands to copy in), VMTEST_MEMORY (MiB),
// VMTEST_CONSOLE=1 (show the guest's boot messages on stderr), VMTEST_KERNEL
// and VMTEST_MODULES_DIR (boot another kernel).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nfkit/nfkit/internal/vmtest"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: vmtest TEST-BINARY [ARGS...]   (as go test -exec vmtest)")
		os.Exit(2)
	}
	cfg := &vmtest.Config{
		Kernel:     os.Getenv("VMTEST_KERNEL"),
		ModulesDir: os.Getenv("VMTEST_MODULES_DIR"),
		Timeout:    timeout(os.Args[2:]),
	}
	if m := os.Getenv("VMTEST_MODULES"); m != "" {
		cfg.Modules = strings.Split(m, ",")
	}
	if t := os.Getenv("VMTEST_TOOLS"); t != "" {
		cfg.Tools = append(append([]string{}, vmtest.DefaultTools...), strings.Split(t, ",")...)
	}
	if m, err := strconv.Atoi(os.Getenv("VMTEST_MEMORY")); err == nil {
		cfg.MemoryMiB = m
	}
	if os.Getenv("VMTEST_CONSOLE") == "1" {
		cfg.Console = os.Stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := vmtest.Run(ctx, cfg, os.Args[1], os.Args[2:]...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(125)
	}
	os.Exit(code)
}

// timeout is VMTEST_TIMEOUT, or the test binary's own -test.timeout plus
// time to boot, so the binary's panic with its goroutine dump comes first.
func timeout(args []string) time.Duration {
	if d, err := time.ParseDuration(os.Getenv("VMTEST_TIMEOUT")); err == nil {
		return d
	}
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "-test.timeout="); ok {
			if d, err := time.ParseDuration(v); err == nil && d > 0 {
				return d + 2*time.Minute
			}
		}
	}
	return 30 * time.Minute
}
