package expr

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// VerdictCode is a verdict: the netfilter verdicts NF_DROP..NF_STOP and the
// nf_tables ones NFT_CONTINUE..NFT_RETURN (negative).
type VerdictCode int32

const (
	VerdictDrop     VerdictCode = 0 // NF_DROP
	VerdictAccept   VerdictCode = 1 // NF_ACCEPT
	VerdictStolen   VerdictCode = 2 // NF_STOLEN
	VerdictQueue    VerdictCode = 3 // NF_QUEUE
	VerdictRepeat   VerdictCode = 4 // NF_REPEAT
	VerdictStop     VerdictCode = 5 // NF_STOP (deprecated)
	VerdictContinue VerdictCode = unix.NFT_CONTINUE
	VerdictBreak    VerdictCode = unix.NFT_BREAK
	VerdictJump     VerdictCode = unix.NFT_JUMP
	VerdictGoto     VerdictCode = unix.NFT_GOTO
	VerdictReturn   VerdictCode = unix.NFT_RETURN
)

func (v VerdictCode) String() string {
	switch v {
	case VerdictDrop:
		return "drop"
	case VerdictAccept:
		return "accept"
	case VerdictStolen:
		return "stolen"
	case VerdictQueue:
		return "queue"
	case VerdictRepeat:
		return "repeat"
	case VerdictStop:
		return "stop"
	case VerdictContinue:
		return "continue"
	case VerdictBreak:
		return "break"
	case VerdictJump:
		return "jump"
	case VerdictGoto:
		return "goto"
	case VerdictReturn:
		return "return"
	}
	return fmt.Sprintf("VerdictCode(%d)", int32(v))
}

// Verdict is a verdict as nf_tables data (NFTA_DATA_VERDICT: NFTA_VERDICT_CODE
// and, for jump and goto, NFTA_VERDICT_CHAIN). Used as an expression it is
// an immediate loading the verdict register, which is how every rule ends
// in accept, drop, jump or goto (nft's `accept`, iptables' `-j ACCEPT`).
type Verdict struct {
	Kind  VerdictCode
	Chain string // jump and goto only
}

func (v *Verdict) Name() string { return "immediate" }

func (v *Verdict) validate() error {
	switch v.Kind {
	case VerdictJump, VerdictGoto:
		if v.Chain == "" || len(v.Chain) > 255 {
			return invalidf("verdict %s chain %q (want 1..255 bytes)", v.Kind, v.Chain)
		}
	case VerdictDrop, VerdictAccept, VerdictQueue, VerdictContinue, VerdictBreak, VerdictReturn,
		VerdictStolen, VerdictRepeat, VerdictStop:
		if v.Chain != "" {
			return invalidf("verdict %s with chain %q (only jump and goto name a chain)", v.Kind, v.Chain)
		}
	default:
		// NF_QUEUE with a queue number in the upper bits, NF_DROP with an
		// errno: keep anything, the kernel decides.
		if v.Chain != "" {
			return invalidf("verdict %s with chain %q", v.Kind, v.Chain)
		}
	}
	return nil
}

func (v *Verdict) marshal(ae *enc) error {
	putReg(ae, unix.NFTA_IMMEDIATE_DREG, RegVerdict)
	ae.Nested(unix.NFTA_IMMEDIATE_DATA, v.marshalData)
	return nil
}

// marshalData writes the nft_data verdict form: NFTA_DATA_VERDICT nest.
func (v *Verdict) marshalData(ae *enc) error {
	ae.Nested(unix.NFTA_DATA_VERDICT, func(ae *enc) error {
		ae.U32(unix.NFTA_VERDICT_CODE, uint32(v.Kind))
		if v.Chain != "" {
			ae.String(unix.NFTA_VERDICT_CHAIN, v.Chain)
		}
		return nil
	})
	return nil
}

func (v *Verdict) unmarshal(ad *dec) error {
	im := &Immediate{}
	if err := im.unmarshal(ad); err != nil {
		return err
	}
	if im.verdict == nil {
		return errUnknownAttr
	}
	*v = *im.verdict
	return nil
}

func (v *Verdict) unmarshalVerdict(b []byte) error {
	ad, err := newDec(b)
	if err != nil {
		return err
	}
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_VERDICT_CODE:
			v.Kind = VerdictCode(int32(ad.U32()))
		case unix.NFTA_VERDICT_CHAIN:
			v.Chain = ad.String()
		default:
			return errUnknownAttr
		}
	}
	return ad.Err()
}

// putValue writes an nft_data value: typ { NFTA_DATA_VALUE value }.
func putValue(ae *enc, typ uint16, v []byte) {
	ae.Nested(typ, func(ae *enc) error {
		ae.Bytes(unix.NFTA_DATA_VALUE, v)
		return nil
	})
}

// getData reads the nft_data nest of the current attribute of ad: a value
// or a verdict (exactly one). A value is copied into ad's arena.
func getData(ad *dec, vd *Verdict) (value []byte, verdict *Verdict, err error) {
	nd, err := ad.sub()
	if err != nil {
		return nil, nil, err
	}
	n := 0
	for nd.Next() {
		n++
		switch nd.Kind() {
		case unix.NFTA_DATA_VALUE:
			value = nd.keep(nd.Data())
		case unix.NFTA_DATA_VERDICT:
			verdict = vd
			if verdict == nil {
				verdict = &Verdict{}
			}
			if err := verdict.unmarshalVerdict(nd.Data()); err != nil {
				return nil, nil, err
			}
		default:
			return nil, nil, errUnknownAttr
		}
	}
	if err := nd.Err(); err != nil {
		return nil, nil, err
	}
	if n != 1 {
		return nil, nil, errUnknownAttr
	}
	return value, verdict, nil
}

// getValue reads an nft_data nest that must hold a value.
func getValue(ad *dec) []byte {
	v, vd, err := getData(ad, nil)
	if err != nil || vd != nil || len(v) == 0 {
		// An empty value is not something we can re-encode; surface as
		// an error on the decoder so the expression stays Raw.
		ad.Fail(errUnknownAttr)
		return nil
	}
	return v
}

// sameAttrs reports whether a and b are the same attribute stream, allowing
// only NLA_F_NESTED to differ (the kernel dumps nests without it; libnftnl
// and Encode send it). Where either side marks a nest, the payloads are
// compared recursively; everything else must match byte for byte.
func sameAttrs(a, b []byte) bool {
	for len(a) > 0 || len(b) > 0 {
		if len(a) < 4 || len(b) < 4 {
			return bytes.Equal(a, b)
		}
		la, lb := int(binary.LittleEndian.Uint16(a)), int(binary.LittleEndian.Uint16(b))
		ta, tb := binary.LittleEndian.Uint16(a[2:]), binary.LittleEndian.Uint16(b[2:])
		if la != lb || la < 4 || la > len(a) || lb > len(b) || ta&^unix.NLA_F_NESTED != tb&^unix.NLA_F_NESTED {
			return bytes.Equal(a, b)
		}
		pa, pb := a[4:la], b[4:lb]
		if (ta|tb)&unix.NLA_F_NESTED != 0 {
			if !sameAttrs(pa, pb) {
				return false
			}
		} else if !bytes.Equal(pa, pb) {
			return false
		}
		adv := (la + 3) &^ 3
		if adv > len(a) || adv > len(b) {
			return bytes.Equal(a[la:], b[lb:])
		}
		if !bytes.Equal(a[la:adv], b[lb:adv]) { // padding
			return false
		}
		a, b = a[adv:], b[adv:]
	}
	return true
}

// SameAttrs is sameAttrs for tests and the nft package: two attribute
// streams equal up to NLA_F_NESTED.
func SameAttrs(a, b []byte) bool { return sameAttrs(a, b) }
