package netlab

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/nfkit/nfkit/nft"
)

// PrintTable writes one table read back through nfkit in the layout of `nft
// list table`: sets with their elements, chains with their hooks, and each
// rule as its expressions (see Exprs) with its handle.
func PrintTable(ctx context.Context, w io.Writer, c *nft.Conn, family nft.Family, table string) error {
	t, err := c.GetTable(ctx, family, table)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "table %s %s {\n", family, table)
	if t.Comment != "" {
		fmt.Fprintf(w, "\tcomment %q\n", t.Comment)
	}
	sets, err := c.ListSets(ctx, family, table)
	if err != nil {
		return err
	}
	for _, s := range sets {
		if s.Anonymous || strings.HasPrefix(s.Name, "__") {
			continue
		}
		kind := "set"
		if s.IsMap() {
			kind = "map"
		}
		fmt.Fprintf(w, "\t%s %s {\n\t\ttype %s", kind, s.Name, typeNames(s))
		fmt.Fprintln(w)
		if s.Flags&nft.SetInterval != 0 {
			fmt.Fprintln(w, "\t\tflags interval")
		}
		elems, err := c.ListElements(ctx, s)
		if err != nil {
			return err
		}
		if len(elems) > 0 {
			var parts []string
			for _, e := range elems {
				parts = append(parts, ElementString(e))
			}
			fmt.Fprintf(w, "\t\telements = { %s }\n", strings.Join(parts, ", "))
		}
		fmt.Fprintln(w, "\t}")
	}
	chains, err := c.ListChains(ctx, family, table)
	if err != nil {
		return err
	}
	rules, err := c.ListRules(ctx, nft.RuleFilter{Family: family, Table: table})
	if err != nil {
		return err
	}
	for _, ch := range chains {
		fmt.Fprintf(w, "\tchain %s {\n", ch.Name)
		if ch.IsBase() {
			fmt.Fprintf(w, "\t\ttype %s hook %s priority %d; policy %s;\n", ch.Type, ch.Hook, ch.Priority, ch.Policy)
		}
		for _, r := range rules {
			if r.Chain == ch.Name {
				comment := ""
				if r.Comment != "" {
					comment = fmt.Sprintf(" comment %q", r.Comment)
				}
				fmt.Fprintf(w, "\t\t%s%s # handle %d\n", Exprs(r.Exprs), comment, r.Handle)
			}
		}
		fmt.Fprintln(w, "\t}")
	}
	fmt.Fprintln(w, "}")
	return nil
}

func typeNames(s *nft.Set) string {
	var k []string
	for _, t := range s.KeyType {
		k = append(k, t.Name)
	}
	out := strings.Join(k, " . ")
	if s.IsMap() {
		out += " : " + s.DataType.Name
	}
	return out
}

// ElementString prints a set element as nft does: a key, a range, a prefix,
// and a map value after a colon.
func ElementString(e nft.Element) string {
	s := value(e.Key)
	if e.KeyEnd != nil {
		s += "-" + value(e.KeyEnd)
	}
	if e.Value != nil {
		s += " : " + value(e.Value)
	}
	return s
}

func value(v any) string {
	if c, ok := v.(nft.Concat); ok {
		parts := make([]string, len(c))
		for i, f := range c {
			parts[i] = value(f)
		}
		return strings.Join(parts, " . ")
	}
	return fmt.Sprint(v)
}
