package expr

import (
	"golang.org/x/sys/unix"
)

// xtNameLen is XT_EXTENSION_MAXNAMELEN (29 characters and the NUL).
const xtNameLen = 29

// Match runs an x_tables match through nft_compat (iptables-nft's `-m
// comment`, `-m conntrack`, ...). Info is the match's xt info struct exactly
// as the kernel module expects it (the kernel dumps it padded to
// XT_ALIGN); it is kept byte for byte.
type Match struct {
	MatchName string
	Rev       uint32
	Info      []byte
}

func (m *Match) Name() string { return "match" }

func (m *Match) validate() error { return checkCompat("match", m.MatchName, m.Info) }

func checkCompat(what, name string, info []byte) error {
	if name == "" || len(name) > xtNameLen-1 {
		return invalidf("%s name %q (want 1..%d bytes)", what, name, xtNameLen-1)
	}
	if len(info) > 0xffff-64 {
		return invalidf("%s %s info of %d bytes", what, name, len(info))
	}
	return nil
}

func (m *Match) marshal(ae *enc) error {
	ae.String(unix.NFTA_MATCH_NAME, m.MatchName)
	ae.U32(unix.NFTA_MATCH_REV, m.Rev)
	ae.Bytes(unix.NFTA_MATCH_INFO, nonNil(m.Info))
	return nil
}

func (m *Match) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_MATCH_NAME:
			m.MatchName = ad.String()
		case unix.NFTA_MATCH_REV:
			m.Rev = ad.U32()
		case unix.NFTA_MATCH_INFO:
			m.Info = cloneNonNil(ad.Data())
		default:
			return errUnknownAttr
		}
	}
	return nil
}

// Target runs an x_tables target through nft_compat (iptables-nft's `-j
// MASQUERADE`, `-j MARK`, ...). Info is the target's xt info struct, kept
// byte for byte.
type Target struct {
	TargetName string
	Rev        uint32
	Info       []byte
}

func (t *Target) Name() string { return "target" }

func (t *Target) validate() error { return checkCompat("target", t.TargetName, t.Info) }

func (t *Target) marshal(ae *enc) error {
	ae.String(unix.NFTA_TARGET_NAME, t.TargetName)
	ae.U32(unix.NFTA_TARGET_REV, t.Rev)
	ae.Bytes(unix.NFTA_TARGET_INFO, nonNil(t.Info))
	return nil
}

func (t *Target) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_TARGET_NAME:
			t.TargetName = ad.String()
		case unix.NFTA_TARGET_REV:
			t.Rev = ad.U32()
		case unix.NFTA_TARGET_INFO:
			t.Info = cloneNonNil(ad.Data())
		default:
			return errUnknownAttr
		}
	}
	return nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func cloneNonNil(b []byte) []byte { return append([]byte{}, b...) }
