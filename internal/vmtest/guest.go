package vmtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// guestBinary is where the test binary lives in the guest.
const guestBinary = "/vmtest/test.bin"

// build assembles the initramfs for one run.
func (c *Config) build(binary string, args []string, marker string) (*archive, error) {
	a := newArchive()
	bb := findBusybox(c.Busybox)
	if bb == "" {
		return nil, errors.New("vmtest: no static busybox (apt-get install busybox-static)")
	}
	for _, d := range []string{"/proc", "/sys", "/dev", "/run", "/tmp", "/root", "/etc", "/var"} {
		a.dir(d)
	}
	// Tools that look up users, protocols or services by name.
	for _, f := range []string{"/etc/protocols", "/etc/services", "/etc/passwd", "/etc/group", "/etc/iproute2"} {
		if st, err := os.Stat(f); err == nil {
			if st.IsDir() {
				if err := a.addTree(f, f); err != nil {
					return nil, err
				}
			} else {
				a.file(f, f, 0o644)
			}
		}
	}

	idx, err := loadModuleIndex(c.ModulesDir)
	if err != nil {
		return nil, fmt.Errorf("vmtest: kernel modules: %w", err)
	}
	patterns := c.Modules
	if patterns == nil {
		patterns = DefaultModules
	}
	mods, err := idx.resolve(patterns)
	if err != nil {
		return nil, err
	}
	kver := filepath.Base(c.ModulesDir)
	if err := a.addModules(idx, kver, mods); err != nil {
		return nil, err
	}

	tools, explicit := c.Tools, true
	if tools == nil {
		tools, explicit = DefaultTools, false
	}
	for _, t := range tools {
		p, err := exec.LookPath(t)
		if err != nil {
			if explicit {
				return nil, fmt.Errorf("vmtest: tool %q: %w", t, err)
			}
			continue
		}
		abs, _ := filepath.Abs(p)
		if err := a.addExecutable(abs); err != nil {
			return nil, err
		}
		if strings.Contains(t, "tables") {
			if _, err := os.Stat(xtablesDir); err == nil && !a.has(xtablesDir) {
				if err := a.addTree(xtablesDir, xtablesDir); err != nil {
					return nil, err
				}
			}
		}
	}

	if err := a.addBusybox(bb); err != nil {
		return nil, err
	}

	// The test binary, with its libraries if it was built with cgo.
	absBin, err := filepath.Abs(binary)
	if err != nil {
		return nil, err
	}
	dyn, err := isDynamic(absBin)
	if err != nil {
		return nil, err
	}
	a.file(guestBinary, absBin, 0o755)
	if dyn {
		tmp := newArchive()
		if err := tmp.addExecutable(absBin); err != nil {
			return nil, err
		}
		for p, e := range tmp.entries {
			if p != clean(absBin) && !a.has(p) {
				a.entries[p] = e
			}
		}
	}

	// go test runs the binary in the package directory so testdata/ is
	// found by relative path: recreate that directory and its testdata.
	dir := filepath.ToSlash(c.Dir)
	a.dir(dir)
	if st, err := os.Stat(filepath.Join(c.Dir, "testdata")); err == nil && st.IsDir() {
		if err := a.addTree(filepath.Join(c.Dir, "testdata"), path.Join(dir, "testdata")); err != nil {
			return nil, err
		}
	}

	a.bytes("/init", []byte(c.initScript(kver, dir, args, marker)), 0o755)
	return a, nil
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func (c *Config) guestEnv() []string {
	env := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root", "TMPDIR=/tmp", "LC_ALL=C", "VMTEST=1",
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		pass := strings.HasPrefix(k, "NFKIT_") || strings.HasPrefix(k, "VMTEST_")
		for _, p := range PassEnv {
			pass = pass || k == p
		}
		if pass {
			env = append(env, kv)
		}
	}
	return append(env, c.Env...)
}

// initScript is the guest's /init: mount the API filesystems, load the
// modules in dependency order, run the binary, print its status behind the
// run's marker and power off. Boot noise goes before the start marker.
func (c *Config) initScript(kver, dir string, args []string, marker string) string {
	var b strings.Builder
	b.WriteString("#!/bin/busybox sh\n")
	b.WriteString(`export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
# /tmp stays on the initramfs (already RAM): a tmpfs over it would hide the
# package directory when the checkout itself lives under /tmp.
chmod 1777 /tmp
mount -t tmpfs tmpfs /dev/shm
# The console adds CR to every LF otherwise.
stty -onlcr 2>/dev/null
hostname vmtest
ip link set lo up
`)
	fmt.Fprintf(&b, "while read m; do insmod /lib/modules/%s/$m || echo \"vmtest: insmod $m failed\"; done < /vmtest/modules\n", kver)
	// Directories for files go test asks the binary to write
	// (-test.testlogfile, profiles): the binary fails if it cannot create them.
	for _, arg := range args {
		k, v, ok := strings.Cut(arg, "=")
		if !ok || !strings.HasPrefix(k, "-test.") || !strings.HasPrefix(v, "/") {
			continue
		}
		d := path.Dir(v)
		if strings.HasSuffix(k, "dir") {
			d = v
		}
		fmt.Fprintf(&b, "mkdir -p %s\n", shellQuote(d))
	}
	for _, kv := range c.guestEnv() {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&b, "export %s=%s\n", k, shellQuote(v))
	}
	fmt.Fprintf(&b, "cd %s\n", shellQuote(dir))
	fmt.Fprintf(&b, "echo %s-START\n", marker)
	b.WriteString(guestBinary)
	for _, arg := range args {
		b.WriteString(" " + shellQuote(arg))
	}
	b.WriteString(" </dev/null\n")
	fmt.Fprintf(&b, "echo %s-EXIT=$?\n", marker)
	b.WriteString("sync\npoweroff -f\n")
	return b.String()
}
