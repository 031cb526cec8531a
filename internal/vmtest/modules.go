package vmtest

import (
	"bufio"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// DefaultModules are the kernel modules loaded in the guest unless the
// caller names others: everything nfkit's packages test (IPVS and all its
// schedulers, ipset and all its types, nf_tables, conntrack with its netlink
// interface) plus veth and dummy for datapath tests. Patterns use path.Match
// syntax against module names (file names without .ko).
//
// crc32c_generic comes first: libcrc32c (needed by nf_conntrack and so by
// IPVS) asks the crypto API for crc32c when it loads, and without a module
// providing it the load fails; on a normal system modprobe's softdep brings
// it in, insmod does not.
var DefaultModules = []string{
	"crc32c_generic",
	"veth", "dummy",
	"nf_conntrack", "nf_conntrack_netlink", "nf_nat",
	"nf_tables", "nft_*",
	"nf_flow_table_inet", // flowtables (the host kernel has none)
	"ip_vs", "ip_vs_*",
	"ip_set", "ip_set_*",
	// iptables-nft rules with xt matches and targets (nft_compat), for
	// tests of the iptables package and the examples (kube-proxy's IPVS
	// mode masquerades with -m set, its iptables mode uses statistic,
	// comment, mark, DNAT and MASQUERADE).
	"x_tables", "xt_set", "xt_MASQUERADE", "xt_nat", "xt_mark", "xt_comment",
	"xt_statistic", "xt_tcpudp", "xt_conntrack", "xt_addrtype", "xt_multiport",
}

// moduleIndex is a parsed modules.dep: module name → its path relative to
// the modules directory and the paths it depends on.
type moduleIndex struct {
	dir  string
	path map[string]string   // name → relative path
	deps map[string][]string // relative path → relative paths of deps
}

func moduleName(rel string) string {
	base := path.Base(rel)
	for _, ext := range []string{".ko", ".ko.xz", ".ko.zst", ".ko.gz"} {
		if strings.HasSuffix(base, ext) {
			base = strings.TrimSuffix(base, ext)
			break
		}
	}
	// modprobe treats - and _ alike in names; file names use either.
	return strings.ReplaceAll(base, "-", "_")
}

func loadModuleIndex(dir string) (*moduleIndex, error) {
	f, err := os.Open(filepath.Join(dir, "modules.dep"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	idx := &moduleIndex{dir: dir, path: map[string]string{}, deps: map[string][]string{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		mod, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		idx.path[moduleName(mod)] = mod
		idx.deps[mod] = strings.Fields(rest)
	}
	return idx, sc.Err()
}

// resolve expands patterns into module paths in load order: each module
// after its dependencies, in the order the patterns name them. A pattern
// that matches nothing is an error, so a typo does not silently load less.
func (idx *moduleIndex) resolve(patterns []string) ([]string, error) {
	var (
		order []string
		seen  = map[string]bool{}
	)
	var visit func(rel string)
	visit = func(rel string) {
		if seen[rel] {
			return
		}
		seen[rel] = true
		// modules.dep lists the full closure; visiting each dependency's
		// own dependencies first puts them in a valid order.
		for _, d := range idx.deps[rel] {
			visit(d)
		}
		order = append(order, rel)
	}
	names := make([]string, 0, len(idx.path))
	for n := range idx.path {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, p := range patterns {
		p = strings.ReplaceAll(strings.TrimSpace(p), "-", "_")
		if p == "" {
			continue
		}
		matched := false
		for _, n := range names {
			if ok, _ := path.Match(p, n); ok {
				matched = true
				visit(idx.path[n])
			}
		}
		if !matched {
			return nil, fmt.Errorf("vmtest: no kernel module matches %q in %s", p, idx.dir)
		}
	}
	return order, nil
}
