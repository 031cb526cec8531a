package expr

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// ObjType is a stateful object type (NFT_OBJECT_*).
type ObjType uint32

const (
	ObjCounter   ObjType = 1
	ObjQuota     ObjType = 2
	ObjCtHelper  ObjType = 3
	ObjLimit     ObjType = 4
	ObjConnlimit ObjType = 5
	ObjTunnel    ObjType = 6
	ObjCtTimeout ObjType = 7
	ObjSecmark   ObjType = 8
	ObjCtExpect  ObjType = 9
	ObjSynproxy  ObjType = 10
)

func (t ObjType) String() string {
	names := [...]string{"unspec", "counter", "quota", "ct helper", "limit", "connlimit", "tunnel",
		"ct timeout", "secmark", "ct expectation", "synproxy"}
	if int(t) < len(names) {
		return names[t]
	}
	return fmt.Sprintf("ObjType(%d)", uint32(t))
}

// Objref attaches a named stateful object to the rule (nft's `counter name
// "c"`, `ct helper set "ftp"`), or, with Set, the object a map yields for
// the key in SourceRegister (`counter name ip saddr map @m`).
type Objref struct {
	Type ObjType
	Obj  string // the object's name (immediate form)

	Set            string // map form
	SetID          uint32 // map created in the same batch; never dumped
	SourceRegister Register
}

func (o *Objref) Name() string { return "objref" }

func (o *Objref) validate() error {
	if o.Set != "" {
		if o.Obj != "" || o.Type != 0 {
			return invalidf("objref with both map %q and object %q", o.Set, o.Obj)
		}
		if err := checkName("objref map", o.Set); err != nil {
			return err
		}
		return checkReg("objref source", o.SourceRegister, 1, false)
	}
	if o.Type == 0 || o.Type > ObjSynproxy {
		return invalidf("objref type %d", uint32(o.Type))
	}
	return checkName("objref object", o.Obj)
}

func (o *Objref) marshal(ae *enc) error {
	if o.Set != "" {
		putReg(ae, unix.NFTA_OBJREF_SET_SREG, o.SourceRegister)
		ae.String(unix.NFTA_OBJREF_SET_NAME, o.Set)
		if o.SetID != 0 {
			ae.U32(unix.NFTA_OBJREF_SET_ID, o.SetID)
		}
		return nil
	}
	ae.String(unix.NFTA_OBJREF_IMM_NAME, o.Obj)
	ae.U32(unix.NFTA_OBJREF_IMM_TYPE, uint32(o.Type))
	return nil
}

func (o *Objref) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_OBJREF_IMM_TYPE:
			o.Type = ObjType(ad.U32())
		case unix.NFTA_OBJREF_IMM_NAME:
			o.Obj = ad.String()
		case unix.NFTA_OBJREF_SET_SREG:
			o.SourceRegister = getReg(ad)
		case unix.NFTA_OBJREF_SET_NAME:
			o.Set = ad.String()
		case unix.NFTA_OBJREF_SET_ID:
			o.SetID = ad.U32()
		default:
			return errUnknownAttr
		}
	}
	return nil
}
