package expr

import (
	"fmt"
	"strings"
)

// lookupMore covers the expressions outside the first group of New.
func lookupMore(name string) Any {
	switch name {
	case "byteorder":
		return &Byteorder{}
	case "hash":
		return &Hash{}
	case "rt":
		return &Rt{}
	case "exthdr":
		return &Exthdr{}
	case "queue":
		return &Queue{}
	case "connlimit":
		return &Connlimit{}
	case "secmark":
		return &Secmark{}
	case "socket":
		return &Socket{}
	case "synproxy":
		return &Synproxy{}
	case "tproxy":
		return &Tproxy{}
	case "xfrm":
		return &Xfrm{}
	case "dup":
		return &Dup{}
	case "fwd":
		return &Fwd{}
	case "last":
		return &Last{}
	case "flow_offload":
		return &FlowOffload{}
	case "osf":
		return &Osf{}
	case "tunnel":
		return &Tunnel{}
	case "inner":
		return &Inner{}
	}
	return nil
}

// enumString names v from names (indexed by value), or prints
// typ(v) for a value the table does not know.
func enumString(v uint32, names []string, typ string) string {
	if int64(v) < int64(len(names)) && names[v] != "" {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", typ, v)
}

// flagString joins the names of the bits set in v (names[i] is bit i),
// with any unnamed bits left as hex; "0" for none.
func flagString(v uint32, names []string) string {
	if v == 0 {
		return "0"
	}
	var parts []string
	for i, n := range names {
		if v&(1<<i) != 0 {
			parts = append(parts, n)
			v &^= 1 << i
		}
	}
	if v != 0 {
		parts = append(parts, fmt.Sprintf("%#x", v))
	}
	return strings.Join(parts, ",")
}
