package iptables

import (
	"net/netip"
	"strconv"
)

// textBuf is the buffer iptables-save text is printed into: a byte slice
// with the strings.Builder methods the extensions' save methods use.
// Unlike a strings.Builder it can be reset and reused, so Save prints
// every rule a worker dumps into one buffer that grows a few times and is
// then reused for the rest of the table (62 000 rules of a kube-proxy nat
// table), instead of allocating per rule or per chain.
type textBuf struct{ b []byte }

func (t *textBuf) WriteString(s string) (int, error) { t.b = append(t.b, s...); return len(s), nil }
func (t *textBuf) WriteByte(c byte) error            { t.b = append(t.b, c); return nil }
func (t *textBuf) Write(p []byte) (int, error)       { t.b = append(t.b, p...); return len(p), nil }
func (t *textBuf) Len() int                          { return len(t.b) }
func (t *textBuf) String() string                    { return string(t.b) }
func (t *textBuf) Reset()                            { t.b = t.b[:0] }

// uint writes v in decimal.
func (t *textBuf) uint(v uint64) { t.b = strconv.AppendUint(t.b, v, 10) }

// int writes v in decimal.
func (t *textBuf) int(v int64) { t.b = strconv.AppendInt(t.b, v, 10) }

// addr writes a as netip.Addr.String does.
func (t *textBuf) addr(a netip.Addr) { t.b = a.AppendTo(t.b) }

// not writes " !" when inv, as iptables-save puts before an inverted option.
func (t *textBuf) not(inv bool) {
	if inv {
		t.b = append(t.b, " !"...)
	}
}
