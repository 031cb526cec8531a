package iptables

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ext is what every xt extension (match or target) implements: its wire
// identity, the options it takes on the command line, its iptables-save
// text, and its xt info struct.
type ext interface {
	// Name is the xt extension name on the wire (NFTA_MATCH_NAME /
	// NFTA_TARGET_NAME) and, for most, the name after -m / -j.
	Name() string
	// Revision is the revision iptables-nft 1.8.9 writes.
	Revision() uint8
	// parse consumes one command-line option if it belongs to the
	// extension; it reports whether it did.
	parse(p *optParser, opt string, inv bool) (bool, error)
	// check validates the extension once all options are read.
	check(f Family) error
	// save appends the options as iptables-save prints them (each with a
	// leading space).
	save(b *textBuf, f Family)
	// info returns the xt info struct (XT_ALIGNed).
	info(f Family) []byte
	// setInfo decodes the xt info struct.
	setInfo(f Family, b []byte) error
}

// Match is a typed -m match. The concrete types are this package's
// *TCP, *UDP, *Comment, ... and *Extension for any other.
type Match interface {
	ext
	isMatch()
}

// Target is a typed -j target: a *Verdict, *Jump, one of the typed xt
// targets (*DNAT, *MARK, ...), or *Extension.
type Target interface {
	ext
	isTarget()
}

// Extension is an xt match or target nfkit has no type for, kept as the
// bytes iptables-nft wrote. It round-trips exactly. On the command line it
// reads and prints as `-m NAME --xt-rev N --xt-info HEX` (-j for targets):
// iptables-save prints the extension's own options instead.
type Extension struct {
	ExtName  string
	Rev      uint8
	Info     []byte
	IsTarget bool
}

func (e *Extension) Name() string    { return e.ExtName }
func (e *Extension) Revision() uint8 { return e.Rev }
func (e *Extension) isMatch()        {}
func (e *Extension) isTarget()       {}
func (e *Extension) check(Family) error {
	if e.ExtName == "" || len(e.ExtName) > 28 {
		return invalid("extension name %q", e.ExtName)
	}
	return nil
}
func (e *Extension) info(Family) []byte               { return e.Info }
func (e *Extension) setInfo(_ Family, b []byte) error { e.Info = append([]byte(nil), b...); return nil }
func (e *Extension) save(b *textBuf, _ Family) {
	fmt.Fprintf(b, " --xt-rev %d --xt-info %s", e.Rev, hex.EncodeToString(e.Info))
}
func (e *Extension) parse(p *optParser, opt string, inv bool) (bool, error) {
	switch opt {
	case "--xt-rev":
		v, err := p.uint(opt, 0, 255)
		e.Rev = uint8(v)
		return true, err
	case "--xt-info":
		s, err := p.value(opt)
		if err != nil {
			return true, err
		}
		e.Info, err = hex.DecodeString(s)
		if err != nil {
			return true, p.bad(s, "not hex")
		}
		return true, nil
	}
	return false, nil
}

// xtAlign is XT_ALIGN: xt info structs are padded to 8 bytes.
func xtAlign(n int) int { return (n + 7) &^ 7 }

// wb builds an xt info struct in host (little-endian) byte order.
type wb struct{ b []byte }

func newWB(size int) *wb { return &wb{b: make([]byte, xtAlign(size))} }

// growWB appends an XT_ALIGNed, zeroed info struct of size bytes to dst
// and returns dst and a wb writing into the new bytes.
func growWB(dst []byte, size int) ([]byte, wb) {
	n := len(dst)
	dst = append(dst, make([]byte, xtAlign(size))...)
	return dst, wb{b: dst[n:]}
}

func (w *wb) u8(off int, v uint8)   { w.b[off] = v }
func (w *wb) u16(off int, v uint16) { binary.LittleEndian.PutUint16(w.b[off:], v) }
func (w *wb) u32(off int, v uint32) { binary.LittleEndian.PutUint32(w.b[off:], v) }
func (w *wb) be16(off int, v uint16) {
	binary.BigEndian.PutUint16(w.b[off:], v)
}
func (w *wb) bytes(off int, v []byte) { copy(w.b[off:], v) }
func (w *wb) str(off, max int, s string) {
	if len(s) >= max {
		s = s[:max-1]
	}
	copy(w.b[off:], s)
}

// rb reads an xt info struct; reads past the end yield zero, and short
// reports whether any did, so decoders never panic.
type rb struct {
	b     []byte
	short bool
}

func (r *rb) need(off, n int) bool {
	if off+n > len(r.b) {
		r.short = true
		return false
	}
	return true
}
func (r *rb) u8(off int) uint8 {
	if !r.need(off, 1) {
		return 0
	}
	return r.b[off]
}
func (r *rb) u16(off int) uint16 {
	if !r.need(off, 2) {
		return 0
	}
	return binary.LittleEndian.Uint16(r.b[off:])
}
func (r *rb) u32(off int) uint32 {
	if !r.need(off, 4) {
		return 0
	}
	return binary.LittleEndian.Uint32(r.b[off:])
}
func (r *rb) be16(off int) uint16 {
	if !r.need(off, 2) {
		return 0
	}
	return binary.BigEndian.Uint16(r.b[off:])
}
func (r *rb) bytes(off, n int) []byte {
	if !r.need(off, n) {
		return make([]byte, n)
	}
	return append([]byte(nil), r.b[off:off+n]...)
}

// addr reads an n-byte address (zero when past the end, as bytes).
func (r *rb) addr(off, n int) netip.Addr {
	var a [16]byte
	if r.need(off, n) {
		copy(a[:], r.b[off:off+n])
	}
	if n == 4 {
		return netip.AddrFrom4([4]byte(a[:4]))
	}
	if n == 16 {
		return netip.AddrFrom16(a)
	}
	return netip.Addr{}
}

func (r *rb) str(off, max int) string {
	if !r.need(off, max) {
		return ""
	}
	s := r.b[off : off+max]
	if i := strings.IndexByte(string(s), 0); i >= 0 {
		s = s[:i]
	}
	return string(s)
}
func (r *rb) err(name string, want int) error {
	if r.short || len(r.b) < want {
		return fmt.Errorf("%s: info of %d bytes, want %d", name, len(r.b), want)
	}
	return nil
}

// hexU32 prints like iptables' "0x%x".
func hexU32(v uint32) string { return "0x" + strconv.FormatUint(uint64(v), 16) }

// not returns " !" when inv, as iptables-save puts before an inverted option.
func not(inv bool) string {
	if inv {
		return " !"
	}
	return ""
}

func (e *Extension) saveName() string { return "xt:" + e.ExtName }

func (w *wb) u64(off int, v uint64) { binary.LittleEndian.PutUint64(w.b[off:], v) }

func (r *rb) u64(off int) uint64 {
	if !r.need(off, 8) {
		return 0
	}
	return binary.LittleEndian.Uint64(r.b[off:])
}

func (w *wb) be32(off int, v uint32) { binary.BigEndian.PutUint32(w.b[off:], v) }

func (r *rb) be32(off int) uint32 {
	if !r.need(off, 4) {
		return 0
	}
	return binary.BigEndian.Uint32(r.b[off:])
}
