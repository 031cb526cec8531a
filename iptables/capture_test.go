package iptables

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nfnl"
	"github.com/nfkit/nfkit/internal/nlconn"
	"github.com/nfkit/nfkit/internal/nstest"
)

// fixture is what iptables-nft did with one entry of ruleCases.
type fixture struct {
	Case   string `json:"case"`
	Err    string `json:"err,omitempty"`    // iptables-nft refused it
	Save   string `json:"save,omitempty"`   // the -A line iptables-nft-save printed
	SaveC  string `json:"savec,omitempty"`  // the same with -c
	Exprs  string `json:"exprs,omitempty"`  // NFTA_RULE_EXPRESSIONS, hex
	Compat string `json:"compat,omitempty"` // NFTA_RULE_COMPAT payload, hex
	Udata  string `json:"udata,omitempty"`  // NFTA_RULE_USERDATA, hex
}

const fixtureFile = "testdata/rules.json"

// userChains are created in every table so jump targets of the cases exist.
var userChains = []string{"MYCHAIN", "KUBE-SERVICES", "KUBE-POSTROUTING", "KUBE-SVC-NPX46M4PTMTKRN6Y",
	"KUBE-SEP-AAAA", "KUBE-MARK-MASQ", "KUBE-NODEPORTS", "KUBE-PROXY-FIREWALL", "DOCKER", "CNI-abc"}

func splitCase(c string) (fam, table, chain, args string) {
	f := strings.SplitN(c, " ", 4)
	if len(f) == 3 {
		f = append(f, "")
	}
	return f[0], f[1], f[2], f[3]
}

// dumpRuleAttrs returns the attributes of every rule of family/table/chain.
func dumpRuleAttrs(t testing.TB, c *nlconn.Conn, family uint8, table, chain string) []map[uint16][]byte {
	ae := attr.NewEncoder()
	ae.String(unix.NFTA_RULE_TABLE, table)
	if chain != "" {
		ae.String(unix.NFTA_RULE_CHAIN, chain)
	}
	b, _ := ae.Encode()
	req := nfnl.NewMessage(unix.NFNL_SUBSYS_NFTABLES, unix.NFT_MSG_GETRULE, 0, nfnl.Header{Family: family}, b)
	var out []map[uint16][]byte
	for m, err := range c.Dump(context.Background(), req) {
		if err != nil {
			t.Fatal(err)
		}
		_, body, err := nfnl.Unmarshal(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		ad, err := attr.NewDecoder(body)
		if err != nil {
			t.Fatal(err)
		}
		r := map[uint16][]byte{}
		for ad.Next() {
			r[ad.Type()&^unix.NLA_F_NESTED] = attr.Clone(ad.Bytes())
		}
		out = append(out, r)
	}
	return out
}

// TestCaptureFixtures regenerates testdata/rules.json from the installed
// iptables-nft. It runs only with NFKIT_CAPTURE=1: the fixtures are facts
// about iptables-nft 1.8.9, kept stable in the repository.
func TestCaptureFixtures(t *testing.T) {
	if os.Getenv("NFKIT_CAPTURE") != "1" {
		t.Skip("set NFKIT_CAPTURE=1 to regenerate " + fixtureFile)
	}
	nstest.RequireTool(t, "iptables-nft")
	ns := nstest.New(t)
	c, err := nlconn.Dial(unix.NETLINK_NETFILTER, &nlconn.Config{NetNS: ns.FD()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ns.Run(t, "ipset", "create", "myset", "hash:ip")
	ns.Run(t, "ipset", "create", "myset6", "hash:ip", "family", "inet6")
	ns.Run(t, "ipset", "create", "KUBE-ROUTER", "hash:ip,port")
	for _, fam := range []string{"iptables-nft", "ip6tables-nft"} {
		for _, tb := range []string{"filter", "nat", "mangle", "raw", "security"} {
			for _, ch := range userChains {
				ns.Run(t, fam, "-t", tb, "-N", ch)
			}
		}
	}
	var fx []fixture
	for _, cs := range ruleCases {
		fam, table, chain, args := splitCase(cs)
		tool, family := "iptables-nft", uint8(unix.NFPROTO_IPV4)
		if fam == "6" {
			tool, family = "ip6tables-nft", unix.NFPROTO_IPV6
		}
		f := fixture{Case: cs}
		out, err := ns.Exec("sh", "-c", tool+" -t "+table+" -A "+chain+" "+args)
		if err != nil {
			f.Err = strings.TrimSpace(out)
			fx = append(fx, f)
			continue
		}
		lastA := func(s string) string {
			last := ""
			for _, l := range strings.Split(s, "\n") {
				if strings.HasPrefix(l, "-A "+chain+" ") || l == "-A "+chain || strings.Contains(l, "] -A "+chain) {
					last = l
				}
			}
			return last
		}
		f.Save = lastA(ns.Run(t, tool+"-save", "-t", table))
		f.SaveC = lastA(ns.Run(t, tool+"-save", "-c", "-t", table))
		rules := dumpRuleAttrs(t, c, family, table, chain)
		r := rules[len(rules)-1]
		f.Exprs = hex.EncodeToString(r[unix.NFTA_RULE_EXPRESSIONS])
		f.Compat = hex.EncodeToString(r[unix.NFTA_RULE_COMPAT])
		f.Udata = hex.EncodeToString(r[unix.NFTA_RULE_USERDATA])
		fx = append(fx, f)
	}
	b, err := json.MarshalIndent(fx, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fixtureFile, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	dbg, _ := ns.Exec("nft", "--debug=netlink", "list", "ruleset")
	os.WriteFile("testdata/ruleset-debug.txt", []byte(dbg), 0o644)
}
