package nft

import (
	"encoding/binary"
	"fmt"

	"github.com/nfkit/nfkit/internal/attr"
)

// The package encodes with attr.Writer and walks with attr.Iter (or
// attr.Walk where a callback is clearer): both are allocation-light, as a
// 200 000-rule batch and a 1 000 000-element dump go through them, and the
// walker keeps the NLA_F_NESTED / NLA_F_NET_BYTEORDER bits (Type), which
// mdlayher's decoder masks off, so unknown attributes re-encode exactly.
// Nests are opened with Begin(typ), without NLA_F_NESTED, like the
// kernel's dumps (nla_nest_start_noflag): nf_tables does not require it,
// and listed objects then re-encode to the dumped bytes.

// rawAttr is an attribute kept undecoded (type with flags, payload).
type rawAttr struct {
	Type uint16
	Data []byte
}

// putRaw writes kept attributes back unchanged.
func putRaw(e *attr.Writer, attrs []rawAttr) {
	for _, a := range attrs {
		e.Bytes(a.Type, a.Data)
	}
}

// trimNUL is getStr without the conversion to string.
func trimNUL(d []byte) []byte {
	if i := indexNUL(d); i >= 0 {
		return d[:i]
	}
	return d
}

func getU32(d []byte) (uint32, error) {
	if len(d) != 4 {
		return 0, fmt.Errorf("u32 attribute of %d bytes", len(d))
	}
	return binary.BigEndian.Uint32(d), nil
}

func getU64(d []byte) (uint64, error) {
	if len(d) != 8 {
		return 0, fmt.Errorf("u64 attribute of %d bytes", len(d))
	}
	return binary.BigEndian.Uint64(d), nil
}

// getStr reads a kernel string attribute: NUL-terminated, with nothing
// after the NUL. A string without its NUL is accepted (libnftnl writes
// them that way in a few places) but reported via exact=false so the
// encoder can reproduce it.
func getStr(d []byte) string {
	for i, c := range d {
		if c == 0 {
			return string(d[:i])
		}
	}
	return string(d)
}

func indexNUL(d []byte) int {
	for i, c := range d {
		if c == 0 {
			return i
		}
	}
	return -1
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
