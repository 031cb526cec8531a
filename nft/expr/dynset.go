package expr

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// DynsetOp is enum nft_dynset_ops.
type DynsetOp uint32

const (
	DynsetAdd    DynsetOp = unix.NFT_DYNSET_OP_ADD
	DynsetUpdate DynsetOp = unix.NFT_DYNSET_OP_UPDATE
	DynsetDelete DynsetOp = 2 // NFT_DYNSET_OP_DELETE
)

func (o DynsetOp) String() string {
	switch o {
	case DynsetAdd:
		return "add"
	case DynsetUpdate:
		return "update"
	case DynsetDelete:
		return "delete"
	}
	return fmt.Sprintf("DynsetOp(%d)", uint32(o))
}

// Dynset adds, updates or deletes a set element from the packet path (nft's
// `add @flood { ip saddr limit rate over 10/second }`, `update @seen { ip
// saddr timeout 1m }`): the key is in SourceRegister, a map's data in
// DataRegister, and Exprs are per-element stateful expressions.
type Dynset struct {
	SourceRegister Register
	DataRegister   Register // maps only; 0: none
	Op             DynsetOp
	Set            string
	SetID          uint32 // set created in the same batch; never dumped
	TimeoutMS      uint64
	Exprs          []Any
	Invert         bool // NFT_DYNSET_F_INV
}

func (d *Dynset) Name() string { return "dynset" }

func (d *Dynset) validate() error {
	if err := checkName("dynset set", d.Set); err != nil {
		return err
	}
	if d.Op > DynsetDelete {
		return invalidf("dynset op %d", uint32(d.Op))
	}
	if err := checkReg("dynset key", d.SourceRegister, 1, false); err != nil {
		return err
	}
	if d.DataRegister != 0 {
		if err := checkReg("dynset data", d.DataRegister, 1, false); err != nil {
			return err
		}
	}
	for i, e := range d.Exprs {
		if e == nil {
			return invalidf("dynset expression %d is nil", i)
		}
		if err := e.validate(); err != nil {
			return fmt.Errorf("dynset expression %d (%s): %w", i, e.Name(), err)
		}
	}
	return nil
}

func (d *Dynset) marshal(ae *enc) error {
	putReg(ae, unix.NFTA_DYNSET_SREG_KEY, d.SourceRegister)
	if d.DataRegister != 0 {
		putReg(ae, unix.NFTA_DYNSET_SREG_DATA, d.DataRegister)
	}
	ae.U32(unix.NFTA_DYNSET_OP, uint32(d.Op))
	ae.String(unix.NFTA_DYNSET_SET_NAME, d.Set)
	if d.SetID != 0 {
		ae.U32(unix.NFTA_DYNSET_SET_ID, d.SetID)
	}
	ae.U64(unix.NFTA_DYNSET_TIMEOUT, d.TimeoutMS)
	switch len(d.Exprs) {
	case 0:
	case 1:
		if err := nestedExpr(ae, unix.NFTA_DYNSET_EXPR, d.Exprs[0]); err != nil {
			return err
		}
	default:
		var err error
		ae.Nested(nftaDynsetExpressions, func(nae *enc) error {
			for _, e := range d.Exprs {
				if err = nestedExpr(nae, unix.NFTA_LIST_ELEM, e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	var f uint32
	if d.Invert {
		f |= unix.NFT_DYNSET_F_INV
	}
	ae.U32(nftaDynsetFlags, f)
	return nil
}

const (
	nftaDynsetFlags       = 9  // NFTA_DYNSET_FLAGS
	nftaDynsetExpressions = 10 // NFTA_DYNSET_EXPRESSIONS
)

// nestedExpr writes one expression as typ { NFTA_EXPR_NAME, NFTA_EXPR_DATA }.
func nestedExpr(ae *enc, typ uint16, e Any) error { return encodeOne(ae, typ, e) }

func (d *Dynset) unmarshal(ad *dec) error {
	var flags uint32
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_DYNSET_SREG_KEY:
			d.SourceRegister = getReg(ad)
		case unix.NFTA_DYNSET_SREG_DATA:
			d.DataRegister = getReg(ad)
		case unix.NFTA_DYNSET_OP:
			d.Op = DynsetOp(ad.U32())
		case unix.NFTA_DYNSET_SET_NAME:
			d.Set = ad.String()
		case unix.NFTA_DYNSET_SET_ID:
			d.SetID = ad.U32()
		case unix.NFTA_DYNSET_TIMEOUT:
			d.TimeoutMS = ad.U64()
		case unix.NFTA_DYNSET_EXPR:
			e, err := decodeOne(ad.Data())
			if err != nil {
				return err
			}
			d.Exprs = append(d.Exprs, e)
		case nftaDynsetExpressions:
			es, err := Decode(ad.Data())
			if err != nil || len(es) < 2 {
				return errUnknownAttr
			}
			d.Exprs = append(d.Exprs, es...)
		case nftaDynsetFlags:
			flags = ad.U32()
		default:
			return errUnknownAttr
		}
	}
	d.Invert = flags&unix.NFT_DYNSET_F_INV != 0
	// NFT_DYNSET_F_EXPR is accepted by the kernel but never dumped: keep
	// anything but the invert flag as Raw.
	if flags&^unix.NFT_DYNSET_F_INV != 0 {
		return errUnknownAttr
	}
	return nil
}
