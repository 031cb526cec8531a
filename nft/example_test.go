package nft_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/nfkit/nfkit/internal/nstest"
	"github.com/nfkit/nfkit/nft"
)

// Create a table, a base chain and a set in one transaction, inside a
// throwaway network namespace, then list them back.
func Example() {
	ns, err := nstest.Create("example")
	if err != nil {
		fmt.Println("needs root:", err)
		return
	}
	defer ns.Close()
	c, err := nft.Dial(&nft.Config{NetNS: ns.FD()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	ctx := context.Background()

	b := c.NewBatch()
	b.AddTable(&nft.Table{Family: nft.FamilyINet, Name: "filter", Comment: "managed by nfkit"})
	input := &nft.Chain{Family: nft.FamilyINet, Table: "filter", Name: "input",
		Type: nft.ChainTypeFilter, Hook: nft.HookInput, Priority: 0, Policy: nft.PolicyAccept}
	b.AddChain(input)
	allow := &nft.Set{Family: nft.FamilyINet, Table: "filter", Name: "allow",
		KeyType: []nft.DataType{nft.TypeIPv4Addr}, Flags: nft.SetInterval, AutoMerge: true}
	b.AddSet(allow)
	b.AddElements(allow,
		nft.Element{Key: netip.MustParsePrefix("192.0.2.0/25")},
		nft.Element{Key: netip.MustParsePrefix("192.0.2.128/25")}, // merged: 192.0.2.0/24
		nft.Element{Key: netip.MustParseAddr("198.51.100.7")},
	)
	if err := b.Commit(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("chain handle assigned:", input.Handle != 0)

	chains, _ := c.ListChains(ctx, nft.FamilyINet, "filter")
	for _, ch := range chains {
		fmt.Println(ch.Family, ch.Table, ch.Name, ch.Type, ch.Hook, ch.Priority, ch.Policy)
	}
	els, _ := c.ListElements(ctx, allow)
	for _, e := range els {
		fmt.Println(e.Key)
	}
	// Output:
	// chain handle assigned: true
	// inet filter input filter input 0 accept
	// 192.0.2.0/24
	// 198.51.100.7
}

// A failing operation rolls the whole batch back; the error names it.
func ExampleBatch_Commit_error() {
	ns, err := nstest.Create("example")
	if err != nil {
		fmt.Println("needs root:", err)
		return
	}
	defer ns.Close()
	c, err := nft.Dial(&nft.Config{NetNS: ns.FD()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	ctx := context.Background()

	b := c.NewBatch()
	b.AddTable(&nft.Table{Family: nft.FamilyIPv4, Name: "t"})
	b.AddRule(&nft.Rule{Family: nft.FamilyIPv4, Table: "t", Chain: "missing"})
	fmt.Println(b.Commit(ctx))
	tables, _ := c.ListTables(ctx, nft.FamilyUnspec)
	fmt.Println(len(tables), "tables")
	// Output:
	// add rule ip t missing (batch operation 1): no such object (ENOENT)
	// 0 tables
}
