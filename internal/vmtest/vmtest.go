// Package vmtest runs a test binary inside a second kernel: Debian's
// linux-image-amd64 kernel booted under qemu-system-x86_64 with TCG (no KVM
// needed), from an initramfs holding busybox, the binary, the kernel modules
// the tests need and the reference CLI tools. It exists because IPVS (and
// any other kernel feature the host lacks) must still be tested against a
// real kernel.
//
// The runner command (cmd/vmtest) plugs it into go test:
//
//	go build -o /tmp/vmtest ./cmd/vmtest
//	CGO_ENABLED=0 go test -exec /tmp/vmtest ./ipvs/
//
// go test runs the runner in the package directory with the compiled test
// binary and its flags; the runner boots the guest, runs the binary there as
// root with the same flags (so -run, -v, -count, -bench work), in a copy of
// the package's testdata directory at the same path, streams its output and
// exits with its status. t.TempDir works (a tmpfs /tmp). Files the binary
// writes (coverage and profiles) stay in the guest.
//
// A dynamically linked binary (cgo, -race) is booted with its shared
// libraries, but CGO_ENABLED=0 gives a smaller initramfs and a faster boot.
package vmtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config configures one guest boot. The zero value boots the newest
// installed Debian kernel with DefaultModules and DefaultTools.
type Config struct {
	Kernel     string   // bzImage to boot; "" = FindKernel
	ModulesDir string   // /lib/modules/VERSION matching Kernel
	Modules    []string // module name patterns to load, in order; nil = DefaultModules
	Tools      []string // host commands to copy in; nil = DefaultTools (those present)
	Busybox    string   // static busybox; "" = /usr/bin/busybox or /bin/busybox
	Dir        string   // host package dir whose testdata is copied; "" = cwd
	Env        []string // extra KEY=VALUE set in the guest
	MemoryMiB  int      // guest memory; 0 = 1024
	CPUs       int      // guest CPUs; 0 = 2
	Timeout    time.Duration
	Stdout     io.Writer // the binary's output; nil = os.Stdout
	// Console receives the guest's boot messages (kernel log, module
	// loading); nil discards them, but the last lines are kept and shown
	// if the guest dies before the binary exits.
	Console io.Writer
}

// PassEnv lists the host environment variables copied into the guest. CI
// matters most: tests turn skips into failures under CI=true. Variables
// starting with NFKIT_ or VMTEST_ are passed too.
var PassEnv = []string{"CI", "GOTRACEBACK", "GODEBUG", "GOMAXPROCS", "TZ"}

// FindKernel returns the newest kernel image in /boot that has a modules
// directory with modules (kernel/) in /lib/modules. The running kernel is
// deliberately not preferred: the point is a second kernel.
func FindKernel() (kernel, modulesDir string, err error) {
	dirs, _ := filepath.Glob("/lib/modules/*/kernel")
	var versions []string
	for _, d := range dirs {
		v := filepath.Base(filepath.Dir(d))
		if _, err := os.Stat("/boot/vmlinuz-" + v); err == nil {
			versions = append(versions, v)
		}
	}
	if len(versions) == 0 {
		return "", "", errors.New("vmtest: no /boot/vmlinuz-VERSION with /lib/modules/VERSION/kernel (apt-get install linux-image-amd64)")
	}
	sort.Slice(versions, func(i, j int) bool { return versionLess(versions[i], versions[j]) })
	v := versions[len(versions)-1]
	return "/boot/vmlinuz-" + v, "/lib/modules/" + v, nil
}

// versionLess compares kernel versions numerically field by field.
func versionLess(a, b string) bool {
	split := func(s string) []string {
		return strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '-' })
	}
	fa, fb := split(a), split(b)
	for i := 0; i < len(fa) && i < len(fb); i++ {
		na, ea := strconv.Atoi(fa[i])
		nb, eb := strconv.Atoi(fb[i])
		if ea == nil && eb == nil {
			if na != nb {
				return na < nb
			}
			continue
		}
		if fa[i] != fb[i] {
			return fa[i] < fb[i]
		}
	}
	return len(fa) < len(fb)
}

// Available reports why a guest cannot be booted here, or nil.
func Available() error {
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		return errors.New("vmtest: qemu-system-x86_64 not installed (apt-get install qemu-system-x86)")
	}
	if _, _, err := FindKernel(); err != nil {
		return err
	}
	if findBusybox("") == "" {
		return errors.New("vmtest: static busybox not installed (apt-get install busybox-static)")
	}
	return nil
}

func findBusybox(p string) string {
	if p != "" {
		return p
	}
	for _, c := range []string{"/usr/bin/busybox", "/bin/busybox"} {
		if dyn, err := isDynamic(c); err == nil && !dyn {
			return c
		}
	}
	return ""
}

// Run boots a guest, runs binary with args inside it as root and returns its
// exit status. err is non-nil only when the guest could not report a status
// (boot failure, timeout, qemu error).
func Run(ctx context.Context, cfg *Config, binary string, args ...string) (int, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	c := *cfg
	if c.Kernel == "" || c.ModulesDir == "" {
		k, m, err := FindKernel()
		if err != nil {
			return -1, err
		}
		if c.Kernel == "" {
			c.Kernel = k
		}
		if c.ModulesDir == "" {
			c.ModulesDir = m
		}
	}
	if c.Stdout == nil {
		c.Stdout = os.Stdout
	}
	if c.MemoryMiB == 0 {
		c.MemoryMiB = 1024
	}
	if c.CPUs == 0 {
		c.CPUs = 2
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Minute
	}
	if c.Dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return -1, err
		}
		c.Dir = wd
	}
	var nonce [6]byte
	_, _ = rand.Read(nonce[:])
	marker := "VMTEST-" + hex.EncodeToString(nonce[:])

	img, err := os.CreateTemp("", "vmtest-*.cpio")
	if err != nil {
		return -1, err
	}
	defer os.Remove(img.Name())
	a, err := c.build(binary, args, marker)
	if err == nil {
		err = a.write(img)
	}
	if cerr := img.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return -1, err
	}

	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	qargs := []string{
		"-accel", "tcg", "-cpu", "max",
		"-m", strconv.Itoa(c.MemoryMiB), "-smp", strconv.Itoa(c.CPUs),
		"-nodefaults", "-no-user-config", "-display", "none",
		"-serial", "stdio", "-monitor", "none", "-no-reboot",
		"-kernel", c.Kernel, "-initrd", img.Name(),
		"-append", "console=ttyS0 quiet loglevel=1 panic=-1 oops=panic rdinit=/init",
	}
	cmd := exec.CommandContext(ctx, "qemu-system-x86_64", qargs...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return -1, err
	}
	if err := cmd.Start(); err != nil {
		return -1, fmt.Errorf("vmtest: start qemu: %w", err)
	}
	status, scanErr := relay(out, c.Stdout, c.Console, marker)
	werr := cmd.Wait()
	if ctx.Err() != nil && status.code < 0 {
		return -1, fmt.Errorf("vmtest: guest killed after %v (timeout): %w\n%s", c.Timeout, ctx.Err(), status.tail())
	}
	if status.code < 0 {
		if scanErr == nil {
			scanErr = werr
		}
		return -1, fmt.Errorf("vmtest: guest exited without reporting a status (started=%v, qemu: %v)\nlast console lines:\n%s", status.started, scanErr, status.tail())
	}
	return status.code, nil
}

type relayStatus struct {
	started bool
	code    int
	last    []string
}

func (s *relayStatus) tail() string { return strings.Join(s.last, "\n") }

// relay reads the serial console: lines before the start marker are boot
// messages, lines after it are the binary's output, and the exit marker
// carries the status. The binary's output may lack a final newline, so the
// exit marker is found anywhere in a line.
func relay(r io.Reader, stdout, console io.Writer, marker string) (relayStatus, error) {
	st := relayStatus{code: -1}
	br := bufio.NewReaderSize(r, 64*1024)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			text := strings.TrimRight(line, "\r\n")
			hadNL := strings.HasSuffix(line, "\n")
			st.last = append(st.last, text)
			if len(st.last) > 40 {
				st.last = st.last[1:]
			}
			switch {
			case !st.started && strings.Contains(text, marker+"-START"):
				st.started = true
			case !st.started:
				if console != nil {
					fmt.Fprintln(console, text)
				}
			default:
				if i := strings.Index(text, marker+"-EXIT="); i >= 0 {
					if i > 0 {
						io.WriteString(stdout, text[:i])
					}
					code, perr := strconv.Atoi(strings.TrimSpace(text[i+len(marker)+6:]))
					if perr == nil {
						st.code = code
					}
					// Keep draining so qemu never blocks on a full pipe.
					_, _ = io.Copy(io.Discard, br)
					return st, nil
				}
				io.WriteString(stdout, text)
				if hadNL {
					io.WriteString(stdout, "\n")
				}
			}
		}
		if err != nil {
			if err == io.EOF {
				return st, nil
			}
			return st, err
		}
	}
}
