package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"

	goipt "github.com/coreos/go-iptables/iptables"

	"github.com/nfkit/nfkit/iptables"
	"github.com/nfkit/nfkit/nft"
)

// The iptables workloads use kube-proxy's iptables-mode shape in table
// nat: per service a KUBE-SERVICES rule jumping to KUBE-SVC-N, which
// spreads over its endpoints with -m statistic, and per endpoint a
// KUBE-SEP-N-M chain marking hairpin traffic and DNATing; plus the fixed
// hooks and masquerade chains. 2 000 x 10 gives 22 003 chains and 62 007
// rules, about what kube-proxy writes for that many services.

func iptChainsRules(s Size) (chains, rules int) {
	return 3 + s.Services + s.Services*s.Endpoints, 7 + s.Services + 3*s.Services*s.Endpoints
}

func iptRules(s Size) int { _, r := iptChainsRules(s); return r }

// iptOp is one iptables command: a new chain (Rule nil) or an appended rule.
type iptOp struct {
	Chain string
	Rule  []string
}

func svcChain(i int) string    { return fmt.Sprintf("KUBE-SVC-%d", i) }
func sepChain(i, j int) string { return fmt.Sprintf("KUBE-SEP-%d-%d", i, j) }
func comment(i int) []string {
	return []string{"-m", "comment", "--comment", fmt.Sprintf("ns/svc-%d:http", i)}
}

// cat concatenates argument lists.
func cat(p ...[]string) []string {
	var out []string
	for _, x := range p {
		out = append(out, x...)
	}
	return out
}

// iptServiceOps are the commands of service i with endpoints eps (indexes
// into the endpoint address space), chains first.
func iptServiceOps(s Size, i int, eps []int, sepName func(j int) string) []iptOp {
	var ops []iptOp
	ops = append(ops, iptOp{Chain: svcChain(i)})
	for k, j := range eps {
		ep := endpoint(i, j, s.Endpoints).String()
		ops = append(ops, iptOp{Chain: sepName(k)},
			iptOp{sepName(k), cat([]string{"-s", ep + "/32"}, comment(i), []string{"-j", "KUBE-MARK-MASQ"})},
			iptOp{sepName(k), cat([]string{"-p", "tcp"}, comment(i), []string{"-m", "tcp", "-j", "DNAT", "--to-destination", ep + ":8080"})})
	}
	for k := range eps {
		var stat []string
		if left := len(eps) - k; left > 1 {
			stat = []string{"-m", "statistic", "--mode", "random", "--probability", fmt.Sprintf("%.11f", 1/float64(left))}
		}
		ops = append(ops, iptOp{svcChain(i), cat(comment(i), stat, []string{"-j", sepName(k)})})
	}
	return ops
}

// iptOps is the whole table as commands in the order a per-rule program
// would issue them.
func iptOps(s Size) []iptOp {
	ops := []iptOp{
		{Chain: "KUBE-SERVICES"}, {Chain: "KUBE-MARK-MASQ"}, {Chain: "KUBE-POSTROUTING"},
		{"PREROUTING", cat([]string{"-m", "comment", "--comment", `"kubernetes service portals"`, "-j", "KUBE-SERVICES"})},
		{"OUTPUT", cat([]string{"-m", "comment", "--comment", `"kubernetes service portals"`, "-j", "KUBE-SERVICES"})},
		{"POSTROUTING", cat([]string{"-m", "comment", "--comment", `"kubernetes postrouting rules"`, "-j", "KUBE-POSTROUTING"})},
		{"KUBE-MARK-MASQ", []string{"-j", "MARK", "--or-mark", "0x4000"}},
		{"KUBE-POSTROUTING", []string{"-m", "mark", "!", "--mark", "0x4000/0x4000", "-j", "RETURN"}},
		{"KUBE-POSTROUTING", []string{"-j", "MARK", "--xor-mark", "0x4000"}},
		{"KUBE-POSTROUTING", []string{"-j", "MASQUERADE"}},
	}
	eps := make([]int, s.Endpoints)
	for j := range eps {
		eps[j] = j
	}
	for i := range s.Services {
		ops = append(ops, iptServiceOps(s, i, eps, func(j int) string { return sepChain(i, j) })...)
		ops = append(ops, iptOp{"KUBE-SERVICES", cat([]string{"-d", vip(i).String() + "/32", "-p", "tcp"}, comment(i), []string{"-m", "tcp", "--dport", "80", "-j", svcChain(i)})})
	}
	return ops
}

// iptText prints ops as iptables-restore input: chain lines first, then
// the rules in order.
func iptText(ops []iptOp, header []string, trailer []string) string {
	var sb strings.Builder
	sb.WriteString("*nat\n")
	for _, h := range header {
		sb.WriteString(h + "\n")
	}
	for _, o := range ops {
		if o.Rule == nil {
			fmt.Fprintf(&sb, ":%s - [0:0]\n", o.Chain)
		}
	}
	for _, o := range ops {
		if o.Rule != nil {
			fmt.Fprintf(&sb, "-A %s %s\n", o.Chain, strings.Join(o.Rule, " "))
		}
	}
	for _, t := range trailer {
		sb.WriteString(t + "\n")
	}
	sb.WriteString("COMMIT\n")
	return sb.String()
}

func iptRestoreText(s Size) string { return iptText(iptOps(s), nil, nil) }

// The one-service change: service 7's first endpoint is replaced by a new
// one (new KUBE-SEP chain, KUBE-SVC rewritten, old KUBE-SEP deleted).
const changedSvc = 7

func iptChangeOps(s Size) (ops []iptOp, removed string) {
	i := min(changedSvc, s.Services-1)
	eps := make([]int, s.Endpoints)
	for j := range eps {
		eps[j] = j
	}
	eps[0] = s.Endpoints * s.Services * 2 // an address no endpoint had
	sepName := func(k int) string {
		if k == 0 {
			return fmt.Sprintf("KUBE-SEP-%d-new", i)
		}
		return sepChain(i, k)
	}
	for _, o := range iptServiceOps(s, i, eps, sepName) {
		// Only the new endpoint chain and the service chain change.
		if o.Chain == svcChain(i) || o.Chain == sepName(0) {
			ops = append(ops, o)
		}
	}
	return ops, sepChain(i, 0)
}

func iptChangeText(s Size) string {
	ops, removed := iptChangeOps(s)
	return iptText(ops, []string{":" + removed + " - [0:0]"}, []string{"-X " + removed})
}

// iptState reads back the nat table: rule count and chain names.
func iptState(e *Env, legacy bool) (rules int, chains map[string]bool, err error) {
	chains = map[string]bool{}
	if !legacy {
		c, err := nft.Dial(&nft.Config{NetNS: e.NS.FD()})
		if err != nil {
			return 0, nil, err
		}
		defer c.Close()
		ctx := context.Background()
		n, err := countRules(ctx, c, nft.FamilyIPv4, "nat")
		if err != nil {
			return 0, nil, err
		}
		chs, err := c.ListChains(ctx, nft.FamilyIPv4, "nat")
		if err != nil {
			return 0, nil, err
		}
		for _, ch := range chs {
			chains[ch.Name] = true
		}
		return n, chains, nil
	}
	out, err := e.NS.Run("", "iptables-legacy-save", "-t", "nat")
	if err != nil {
		return 0, nil, err
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "-A ") {
			rules++
		} else if name, ok := strings.CutPrefix(l, ":"); ok {
			chains[strings.Fields(name)[0]] = true
		}
	}
	return rules, chains, nil
}

func iptLoadNft(e *Env) error {
	_, err := e.NS.Run(iptRestoreText(e.Size), "iptables-nft-restore")
	return err
}

func iptLoadLegacy(e *Env) error {
	_, err := e.NS.Run(iptRestoreText(e.Size), "iptables-legacy-restore")
	return err
}

func iptCheck(e *Env, peer string, smp Sample, wantRules int, has, hasNot string) error {
	rules, chains, err := iptState(e, strings.Contains(peer, "legacy"))
	if err != nil {
		return err
	}
	if smp.Factor > 1 {
		// Extrapolated: only part of the work was done; check that part.
		wantRules, has = smp.Count, ""
	}
	if rules != wantRules {
		return fmt.Errorf("%d rules in nat, want %d", rules, wantRules)
	}
	if has != "" && !chains[has] {
		return fmt.Errorf("chain %s missing", has)
	}
	if hasNot != "" && chains[hasNot] {
		return fmt.Errorf("chain %s still there", hasNot)
	}
	return nil
}

// goIPT is coreos/go-iptables on the nf_tables backend (Debian's default
// iptables).
func goIPT() (*goipt.IPTables, error) {
	path, err := exec.LookPath("iptables-nft")
	if err != nil {
		return nil, err
	}
	return goipt.New(goipt.Path(path))
}

const goIPTSample = 1000

func iptablesWorkloads() []*Workload {
	chainsOf := func(s Size) int { c, _ := iptChainsRules(s); return c }
	return []*Workload{{
		Name: "iptables/restore", Unit: "rules", Units: iptRules,
		Desc: "load the kube-proxy-shaped nat table (iptables-restore input) into an empty namespace",
		Check: func(e *Env, peer string, smp Sample) error {
			return iptCheck(e, peer, smp, iptRules(e.Size), svcChain(e.Size.Services-1), "")
		},
		Peers: []Peer{
			{Name: "nfkit", Kind: "nfkit", Go: func(ctx context.Context, s Size) (Prepared, error) {
				c, err := iptables.Dial(nil)
				if err != nil {
					return Prepared{}, err
				}
				text := iptRestoreText(s)
				return Prepared{Note: "Restore: parses the same text, one nf_tables transaction", Op: func(ctx context.Context) (int, error) {
					return 0, c.Restore(ctx, strings.NewReader(text), iptables.IPv4, nil)
				}}, nil
			}},
			{Name: "iptables-nft-restore", Kind: "cli", CLI: func(e *Env) ([]string, string, error) {
				return []string{"iptables-nft-restore"}, iptRestoreText(e.Size), nil
			}},
			{Name: "iptables-legacy-restore", Kind: "cli", CLI: func(e *Env) ([]string, string, error) {
				return []string{"iptables-legacy-restore"}, iptRestoreText(e.Size), nil
			}},
			{Name: "coreos/go-iptables", Kind: "go", Go: func(ctx context.Context, s Size) (Prepared, error) {
				ipt, err := goIPT()
				if err != nil {
					return Prepared{}, err
				}
				ops := iptOps(s)
				n := min(len(ops), goIPTSample)
				p := Prepared{Op: func(ctx context.Context) (int, error) {
					rules := 0
					for _, o := range ops[:n] {
						if o.Rule == nil {
							err = ipt.NewChain("nat", o.Chain)
						} else {
							err = ipt.Append("nat", o.Chain, unquote(o.Rule)...)
							rules++
						}
						if err != nil {
							return rules, err
						}
					}
					return rules, nil
				}}
				if n < len(ops) {
					p.Factor = float64(len(ops)) / float64(n)
					p.Note = fmt.Sprintf("NewChain/Append, one iptables-nft process each: first %d of %d commands, extrapolated linearly (the table is still small then: an underestimate)", n, len(ops))
				}
				return p, nil
			}},
		},
	}, {
		Name: "iptables/noflush-change", Unit: "service", Units: func(Size) int { return 1 },
		Desc:  "change one service's endpoints with iptables-restore --noflush input (new KUBE-SEP, rewritten KUBE-SVC, old KUBE-SEP deleted)",
		Setup: iptLoadNft,
		Check: func(e *Env, peer string, smp Sample) error {
			i := min(changedSvc, e.Size.Services-1)
			return iptCheck(e, peer, smp, iptRules(e.Size), fmt.Sprintf("KUBE-SEP-%d-new", i), sepChain(i, 0))
		},
		Peers: []Peer{
			{Name: "nfkit", Kind: "nfkit", Go: func(ctx context.Context, s Size) (Prepared, error) {
				c, err := iptables.Dial(nil)
				if err != nil {
					return Prepared{}, err
				}
				text := iptChangeText(s)
				return Prepared{Op: func(ctx context.Context) (int, error) {
					return 0, c.Restore(ctx, strings.NewReader(text), iptables.IPv4, &iptables.RestoreOptions{NoFlush: true})
				}}, nil
			}},
			{Name: "iptables-nft-restore", Kind: "cli", CLI: func(e *Env) ([]string, string, error) {
				return []string{"iptables-nft-restore", "--noflush"}, iptChangeText(e.Size), nil
			}},
			{Name: "iptables-legacy-restore", Kind: "cli", Setup: iptLoadLegacy, CLI: func(e *Env) ([]string, string, error) {
				return []string{"iptables-legacy-restore", "--noflush"}, iptChangeText(e.Size), nil
			}},
			{Name: "coreos/go-iptables", Kind: "go", Go: func(ctx context.Context, s Size) (Prepared, error) {
				ipt, err := goIPT()
				if err != nil {
					return Prepared{}, err
				}
				ops, removed := iptChangeOps(s)
				return Prepared{Note: "ClearChain, NewChain, Append per rule, ClearAndDeleteChain: one iptables-nft process each", Op: func(ctx context.Context) (int, error) {
					for _, o := range ops {
						if o.Rule == nil {
							// ClearChain creates or flushes, like ":CHAIN" with --noflush.
							err = ipt.ClearChain("nat", o.Chain)
						} else {
							err = ipt.Append("nat", o.Chain, unquote(o.Rule)...)
						}
						if err != nil {
							return 0, err
						}
					}
					return 0, ipt.ClearAndDeleteChain("nat", removed)
				}}, nil
			}},
		},
	}, {
		Name: "iptables/save", Unit: "rules", Units: iptRules,
		Desc:  "print the nat table in iptables-save format",
		Setup: iptLoadNft,
		Check: func(e *Env, peer string, smp Sample) error {
			want := iptRules(e.Size)
			if smp.Factor > 1 {
				if smp.Count == 0 {
					return fmt.Errorf("%s read no rules", peer)
				}
				return nil
			}
			if smp.Count != want {
				return fmt.Errorf("%s printed %d rules, want %d", peer, smp.Count, want)
			}
			return nil
		},
		Peers: []Peer{
			{Name: "nfkit", Kind: "nfkit", Go: func(ctx context.Context, s Size) (Prepared, error) {
				c, err := iptables.Dial(nil)
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Op: func(ctx context.Context) (int, error) {
					pr, pw := io.Pipe()
					errc := make(chan error, 1)
					go func() {
						err := c.Save(ctx, pw, iptables.IPv4, "nat", nil)
						pw.CloseWithError(err)
						errc <- err
					}()
					n := countRuleLines(pr)
					return n, <-errc
				}}, nil
			}},
			{Name: "iptables-nft-save", Kind: "cli", CLI: func(e *Env) ([]string, string, error) {
				return []string{"iptables-nft-save", "-t", "nat"}, "", nil
			}, Count: countRuleText},
			{Name: "iptables-legacy-save", Kind: "cli", Setup: iptLoadLegacy, CLI: func(e *Env) ([]string, string, error) {
				return []string{"iptables-legacy-save", "-t", "nat"}, "", nil
			}, Count: countRuleText},
			{Name: "coreos/go-iptables", Kind: "go", Go: func(ctx context.Context, s Size) (Prepared, error) {
				ipt, err := goIPT()
				if err != nil {
					return Prepared{}, err
				}
				// Each `iptables -S CHAIN` reads the whole table: keep the
				// sample small.
				const sample = 20
				total := chainsOf(s) + 4 // + the built-in chains
				p := Prepared{Op: func(ctx context.Context) (int, error) {
					chains, err := ipt.ListChains("nat")
					if err != nil {
						return 0, err
					}
					n := 0
					for _, ch := range chains[:min(len(chains), sample)] {
						rs, err := ipt.List("nat", ch)
						if err != nil {
							return n, err
						}
						for _, r := range rs {
							if strings.HasPrefix(r, "-A ") {
								n++
							}
						}
					}
					return n, nil
				}}
				if total > sample {
					p.Factor = float64(total) / float64(sample)
					p.Note = fmt.Sprintf("ListChains + List per chain (iptables -S CHAIN, one process each): first %d of %d chains, extrapolated", sample, total)
				}
				return p, nil
			}},
		},
	}}
}

func countRuleText(out []byte) int { return strings.Count(string(out), "\n-A ") }

func countRuleLines(r io.Reader) int {
	n := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "-A ") {
			n++
		}
	}
	_, _ = io.Copy(io.Discard, r)
	return n
}

// unquote drops the shell quotes of restore-file arguments: go-iptables
// passes each argument to the binary as is.
func unquote(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.Trim(a, `"`)
	}
	return out
}
