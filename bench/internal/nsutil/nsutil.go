// Package nsutil makes throwaway network namespaces for the benchmark and
// starts processes inside them.
//
// It is a small copy of what nfkit's internal/nstest does for tests, which
// this module cannot import (it is internal to the main module). A namespace
// is created on a locked thread with unshare(CLONE_NEWNET), bind-mounted at
// /run/netns/NAME (so CLI tools can be pointed at it with nsenter or
// `ip netns exec`) and the thread is switched back before it is unlocked.
// Processes are started from a locked thread that has entered the
// namespace: the child inherits the thread's namespace at fork, so neither
// the tool nor the benchmark's own child processes need any namespace
// option, and no wrapper process (nsenter) is measured.
package nsutil

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// NS is a named network namespace that lives until Close.
type NS struct {
	Name string
	h    netns.NsHandle
}

var seq atomic.Int64

// New creates a fresh, empty network namespace named nfbench-PID-N.
func New() (*NS, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return nil, fmt.Errorf("nsutil: current namespace: %w", err)
	}
	defer orig.Close()
	name := fmt.Sprintf("nfbench-%d-%d", os.Getpid(), seq.Add(1))
	h, err := netns.NewNamed(name)
	// NewNamed leaves this thread in the new namespace (or, on failure,
	// possibly in a half-made one): always go back before unlocking.
	if serr := netns.Set(orig); serr != nil {
		// The thread cannot be trusted any more; keep it locked so the
		// runtime throws it away when this goroutine ends.
		runtime.LockOSThread()
		if err == nil {
			h.Close()
			_ = netns.DeleteNamed(name)
		}
		return nil, fmt.Errorf("nsutil: back to the original namespace: %w", serr)
	}
	if err != nil {
		return nil, fmt.Errorf("nsutil: new namespace %s: %w", name, err)
	}
	return &NS{Name: name, h: h}, nil
}

// FD is a file descriptor of the namespace, for nfkit's Config.NetNS.
func (n *NS) FD() int { return int(n.h) }

// Handle is the namespace handle (for vishvananda/netlink.NewHandleAt).
func (n *NS) Handle() netns.NsHandle { return n.h }

// Path is the bind mount of the namespace, /run/netns/NAME.
func (n *NS) Path() string { return "/run/netns/" + n.Name }

// Close deletes the namespace (the kernel frees it once nothing uses it).
func (n *NS) Close() error {
	n.h.Close()
	return netns.DeleteNamed(n.Name)
}

// Start starts cmd inside the namespace: the fork happens on a locked
// thread that has entered the namespace, so the child and all its threads
// live there.
func (n *NS) Start(cmd *exec.Cmd) error {
	return n.Do(cmd.Start)
}

// Do runs f on a locked thread inside the namespace. f must not start
// goroutines that expect to be in the namespace.
func (n *NS) Do(f func() error) error {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	if err := netns.Set(n.h); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("nsutil: enter %s: %w", n.Name, err)
	}
	ferr := f()
	if err := netns.Set(orig); err != nil {
		// Leave the thread locked: the runtime kills it with the goroutine.
		return fmt.Errorf("nsutil: leave %s: %w", n.Name, err)
	}
	runtime.UnlockOSThread()
	return ferr
}

// LoopbackUp brings lo up. A fresh namespace has it down and, until an
// address exists, no local routing table: IPVS then classifies every
// destination address as broadcast and refuses it with EINVAL.
func (n *NS) LoopbackUp() error {
	h, err := netlink.NewHandleAt(n.h, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		return err
	}
	return h.LinkSetUp(lo)
}

// Run runs a command inside the namespace with stdin (may be empty) and
// returns its combined output; a failure includes the output.
func (n *NS) Run(stdin string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	if stdin != "" {
		f, err := os.CreateTemp("", "nfbench-stdin-*")
		if err != nil {
			return "", err
		}
		defer os.Remove(f.Name())
		defer f.Close()
		if _, err := f.WriteString(stdin); err != nil {
			return "", err
		}
		if _, err := f.Seek(0, 0); err != nil {
			return "", err
		}
		cmd.Stdin = f
	}
	var out outBuf
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := n.Start(cmd); err != nil {
		return "", err
	}
	if err := cmd.Wait(); err != nil {
		return out.String(), fmt.Errorf("%s %v in %s: %w: %.500s", name, args, n.Name, err, out.String())
	}
	return out.String(), nil
}

type outBuf struct{ b []byte }

func (o *outBuf) Write(p []byte) (int, error) { o.b = append(o.b, p...); return len(p), nil }
func (o *outBuf) String() string              { return string(o.b) }
