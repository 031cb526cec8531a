package vmtest

import (
	"debug/elf"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// DefaultTools are the host commands copied into the guest (with their
// shared libraries and the dynamic loader) when present on the host: the
// reference CLIs nfkit's differential tests run, and what nstest needs.
// busybox provides everything else (sh, sysctl, mount, insmod...).
var DefaultTools = []string{
	"ipvsadm", "ip", "nsenter",
	"ipset", "nft", "conntrack",
	"iptables", "iptables-save", "iptables-restore",
	"ip6tables", "ip6tables-save", "ip6tables-restore",
	"iptables-nft", "iptables-nft-save", "iptables-nft-restore",
	"ip6tables-nft", "ip6tables-nft-save", "ip6tables-nft-restore",
	"iptables-legacy", "iptables-legacy-save", "iptables-legacy-restore",
}

// xtablesDir holds the iptables extension plugins, loaded with dlopen and so
// invisible to ldd.
const xtablesDir = "/usr/lib/x86_64-linux-gnu/xtables"

var lddLine = regexp.MustCompile(`(?:=>\s*)?(/\S+)\s+\(0x`)

// addExecutable copies a host executable to the same path in the guest,
// following symlinks (an alternatives chain ends up as the same chain of
// symlinks), plus every shared library ldd reports and the dynamic loader.
func (a *archive) addExecutable(host string) error {
	if err := a.addFollowingLinks(host); err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(host)
	if err != nil {
		return err
	}
	dyn, err := isDynamic(real)
	if err != nil {
		return err
	}
	if !dyn {
		return nil
	}
	out, err := exec.Command("ldd", real).Output()
	if err != nil {
		return fmt.Errorf("vmtest: ldd %s: %v", real, err)
	}
	for _, m := range lddLine.FindAllStringSubmatch(string(out), -1) {
		if err := a.addFollowingLinks(m[1]); err != nil {
			return err
		}
	}
	return nil
}

// addFollowingLinks adds p; if p is a symlink, the link and (recursively)
// what it points to, so names like /lib64/ld-linux-x86-64.so.2 resolve the
// same way in the guest.
func (a *archive) addFollowingLinks(p string) error {
	for range 16 {
		if a.has(p) {
			return nil
		}
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if st.Mode()&fs.ModeSymlink == 0 {
			a.file(p, p, uint32(st.Mode().Perm()))
			return nil
		}
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		// A symlinked parent directory (/lib → usr/lib on merged-/usr
		// systems) is flattened: the guest gets real directories.
		a.symlink(p, target)
		if !path.IsAbs(target) {
			target = path.Join(path.Dir(p), target)
		}
		p = target
	}
	return fmt.Errorf("vmtest: too many symlinks at %s", p)
}

// isDynamic reports whether an ELF file needs the dynamic loader.
func isDynamic(p string) (bool, error) {
	f, err := elf.Open(p)
	if err != nil {
		return false, fmt.Errorf("vmtest: %s: %w", p, err)
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return true, nil
		}
	}
	return false, nil
}

// addTree copies a host directory recursively to the same guest path.
func (a *archive) addTree(host, guest string) error {
	return filepath.WalkDir(host, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(host, p)
		g := path.Join(guest, filepath.ToSlash(rel))
		switch {
		case d.IsDir():
			a.dir(g)
		case d.Type()&fs.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			a.symlink(g, t)
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			a.file(g, p, uint32(info.Mode().Perm()))
		}
		return nil
	})
}

// addBusybox installs busybox at /bin/busybox with a symlink per applet in
// /bin that no real tool already occupies, plus the /sbin names the kernel itself calls (modprobe for module
// autoloading).
func (a *archive) addBusybox(busybox string) error {
	a.file("/bin/busybox", busybox, 0o755)
	out, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		return fmt.Errorf("vmtest: %s --list: %v", busybox, err)
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet == "busybox" || strings.Contains(applet, "/") {
			continue
		}
		// Real tools copied earlier (ip, nsenter) win over applets.
		if !a.has("/bin/" + applet) {
			a.symlink("/bin/"+applet, "busybox")
		}
	}
	for _, s := range []string{"modprobe", "insmod", "poweroff"} {
		if !a.has("/sbin/" + s) {
			a.symlink("/sbin/"+s, "/bin/busybox")
		}
	}
	return nil
}

// addModules copies the given modules (paths relative to idx.dir) and a
// modules.dep limited to them, so busybox modprobe can serve the kernel's
// autoload requests for anything already shipped.
func (a *archive) addModules(idx *moduleIndex, kver string, mods []string) error {
	base := "/lib/modules/" + kver
	in := map[string]bool{}
	for _, m := range mods {
		in[m] = true
		a.file(path.Join(base, m), filepath.Join(idx.dir, m), 0o644)
	}
	var dep strings.Builder
	keys := make([]string, 0, len(in))
	for m := range in {
		keys = append(keys, m)
	}
	sort.Strings(keys)
	for _, m := range keys {
		dep.WriteString(m + ":")
		for _, d := range idx.deps[m] {
			dep.WriteString(" " + d)
		}
		dep.WriteString("\n")
	}
	a.bytes(path.Join(base, "modules.dep"), []byte(dep.String()), 0o644)
	for _, f := range []string{"modules.alias", "modules.builtin", "modules.softdep"} {
		if _, err := os.Stat(filepath.Join(idx.dir, f)); err == nil {
			a.file(path.Join(base, f), filepath.Join(idx.dir, f), 0o644)
		}
	}
	a.bytes("/vmtest/modules", []byte(strings.Join(mods, "\n")+"\n"), 0o644)
	return nil
}
