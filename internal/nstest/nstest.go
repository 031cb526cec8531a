// Package nstest gives tests (and examples) throwaway network namespaces, so
// nothing they do touches the host's rules, and helpers to run the reference
// CLI tools inside them for differential tests.
package nstest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/vishvananda/netns"
)

// NS is a named network namespace (visible as /run/netns/NAME, so `ip netns
// exec` and `nsenter` reach it) that lives until Close.
type NS struct {
	Name   string
	handle netns.NsHandle
}

// Create makes a fresh named network namespace without changing the
// namespace of any thread that outlives the call: the creating thread is
// locked, switched and switched back, and if switching back fails it is
// left locked so the runtime discards it.
func Create(prefix string) (*NS, error) {
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	name := fmt.Sprintf("%s-%d-%s", prefix, os.Getpid(), hex.EncodeToString(rnd[:]))
	if len(name) > 48 {
		name = name[:48]
	}
	type result struct {
		h   netns.NsHandle
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			ch <- result{err: err}
			runtime.UnlockOSThread()
			return
		}
		defer orig.Close()
		h, err := netns.NewNamed(name)
		if err != nil {
			// NewNamed may have switched before failing: restore.
			if netns.Set(orig) == nil {
				runtime.UnlockOSThread()
			}
			ch <- result{err: fmt.Errorf("create netns %s: %w", name, err)}
			return
		}
		if err := netns.Set(orig); err != nil {
			ch <- result{h: h}
			return // stay locked: this thread dies with the goroutine
		}
		runtime.UnlockOSThread()
		ch <- result{h: h}
	}()
	r := <-ch
	if r.err != nil {
		return nil, r.err
	}
	ns := &NS{Name: name, handle: r.h}
	// Bring loopback up: tests routinely talk to 127.0.0.1.
	if out, err := ns.Exec("ip", "link", "set", "lo", "up"); err != nil {
		ns.Close()
		return nil, fmt.Errorf("bring up lo in %s: %v: %s", name, err, out)
	}
	return ns, nil
}

// New returns a fresh namespace removed when the test ends, pass or fail.
// It skips (fails under CI=true) when not running as root.
func New(t testing.TB) *NS {
	t.Helper()
	RequireRoot(t)
	ns, err := Create("nfkit")
	if err != nil {
		t.Fatalf("nstest: %v", err)
	}
	t.Cleanup(func() {
		if err := ns.Close(); err != nil {
			t.Errorf("nstest: remove namespace %s: %v", ns.Name, err)
		}
	})
	return ns
}

// FD is the namespace file descriptor to pass as Config.NetNS.
func (ns *NS) FD() int { return int(ns.handle) }

// Path is the namespace's bind-mount path.
func (ns *NS) Path() string { return filepath.Join("/run/netns", ns.Name) }

// Close removes the namespace. Sockets already bound inside it keep it
// alive until they are closed.
func (ns *NS) Close() error {
	if ns.handle == 0 {
		return nil
	}
	err := ns.handle.Close()
	ns.handle = 0
	if derr := netns.DeleteNamed(ns.Name); derr != nil && err == nil {
		err = derr
	}
	return err
}

// Do runs fn with the calling goroutine's thread inside the namespace, and
// restores the thread afterwards. If it cannot be restored, the thread stays
// locked and is discarded when the goroutine ends, so no OS thread is ever
// left in the wrong namespace. fn runs on its own goroutine; a panic in fn is
// re-raised in the caller.
func (ns *NS) Do(fn func() error) error {
	type result struct {
		err   error
		panic any
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: err}
			return
		}
		defer orig.Close()
		if err := netns.Set(ns.handle); err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: fmt.Errorf("enter %s: %w", ns.Name, err)}
			return
		}
		var r result
		func() {
			defer func() { r.panic = recover() }()
			r.err = fn()
		}()
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
		ch <- r
	}()
	r := <-ch
	if r.panic != nil {
		panic(r.panic)
	}
	return r.err
}

// Exec runs a command inside the namespace (through nsenter, so the tool
// sees the namespace from its first instruction) and returns its combined
// output.
func (ns *NS) Exec(name string, args ...string) (string, error) {
	return ns.ExecInput(nil, name, args...)
}

// ExecInput is Exec with data on the command's standard input.
func (ns *NS) ExecInput(stdin []byte, name string, args ...string) (string, error) {
	full := append([]string{"--net=" + ns.Path(), "--", name}, args...)
	cmd := exec.Command("nsenter", full...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Run runs a CLI tool in the namespace and fails the test if it fails; it
// returns the tool's output. The tool must be installed (see RequireTool).
func (ns *NS) Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	RequireTool(t, name)
	out, err := ns.Exec(name, args...)
	if err != nil {
		t.Fatalf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), ns.Name, err, out)
	}
	return out
}

// RunInput is Run with standard input (for `nft -f -`, `ipset restore`...).
func (ns *NS) RunInput(t testing.TB, stdin string, name string, args ...string) string {
	t.Helper()
	RequireTool(t, name)
	out, err := ns.ExecInput([]byte(stdin), name, args...)
	if err != nil {
		t.Fatalf("%s %s in %s: %v\n%s\ninput:\n%s", name, strings.Join(args, " "), ns.Name, err, out, stdin)
	}
	return out
}
