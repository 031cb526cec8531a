package expr

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// CtKey is enum nft_ct_keys.
type CtKey uint32

const (
	CtState      CtKey = unix.NFT_CT_STATE
	CtDirection  CtKey = unix.NFT_CT_DIRECTION
	CtStatus     CtKey = unix.NFT_CT_STATUS
	CtMark       CtKey = unix.NFT_CT_MARK
	CtSecmark    CtKey = unix.NFT_CT_SECMARK
	CtExpiration CtKey = unix.NFT_CT_EXPIRATION
	CtHelper     CtKey = unix.NFT_CT_HELPER
	CtL3Protocol CtKey = unix.NFT_CT_L3PROTOCOL
	CtSrc        CtKey = unix.NFT_CT_SRC
	CtDst        CtKey = unix.NFT_CT_DST
	CtProtocol   CtKey = unix.NFT_CT_PROTOCOL
	CtProtoSrc   CtKey = unix.NFT_CT_PROTO_SRC
	CtProtoDst   CtKey = unix.NFT_CT_PROTO_DST
	CtLabels     CtKey = unix.NFT_CT_LABELS
	CtPkts       CtKey = unix.NFT_CT_PKTS
	CtBytes      CtKey = unix.NFT_CT_BYTES
	CtAvgPkt     CtKey = unix.NFT_CT_AVGPKT
	CtZone       CtKey = unix.NFT_CT_ZONE
	CtEventMask  CtKey = unix.NFT_CT_EVENTMASK
	CtSrcIP      CtKey = unix.NFT_CT_SRC_IP
	CtDstIP      CtKey = unix.NFT_CT_DST_IP
	CtSrcIP6     CtKey = unix.NFT_CT_SRC_IP6
	CtDstIP6     CtKey = unix.NFT_CT_DST_IP6
	CtID         CtKey = 23 // NFT_CT_ID
)

var ctKeyNames = [...]string{"state", "direction", "status", "mark", "secmark", "expiration",
	"helper", "l3proto", "saddr", "daddr", "protocol", "proto-src", "proto-dst", "label",
	"packets", "bytes", "avgpkt", "zone", "event", "ip saddr", "ip daddr", "ip6 saddr",
	"ip6 daddr", "id"}

func (k CtKey) String() string {
	if int(k) < len(ctKeyNames) {
		return ctKeyNames[k]
	}
	return fmt.Sprintf("CtKey(%d)", uint32(k))
}

// CtDir is the conntrack direction a key is read from. The zero value
// means none given (the attribute is absent).
type CtDir uint8

const (
	CtDirNone     CtDir = 0
	CtDirOriginal CtDir = 1 // IP_CT_DIR_ORIGINAL (0 on the wire)
	CtDirReply    CtDir = 2 // IP_CT_DIR_REPLY (1 on the wire)
)

func (d CtDir) String() string {
	switch d {
	case CtDirNone:
		return ""
	case CtDirOriginal:
		return "original"
	case CtDirReply:
		return "reply"
	}
	return fmt.Sprintf("CtDir(%d)", uint8(d))
}

// Ct loads conntrack state Key into DestRegister (nft's `ct state
// established,related`, `ct original saddr`, `ct zone`), or, with
// SourceRegister, sets it (`ct mark set 1`, `ct zone set 2`, `ct label set
// 5`, `ct event set new`).
type Ct struct {
	Key            CtKey
	Direction      CtDir
	DestRegister   Register
	SourceRegister Register // non-zero: a set instead of a load
}

func (c *Ct) Name() string { return "ct" }

func (c *Ct) validate() error {
	if c.Key > CtID {
		return invalidf("ct key %d", uint32(c.Key))
	}
	if c.Direction > CtDirReply {
		return invalidf("ct direction %d", uint8(c.Direction))
	}
	if c.SourceRegister != 0 {
		if c.DestRegister != 0 {
			return invalidf("ct %s with both source %s and destination %s", c.Key, c.SourceRegister, c.DestRegister)
		}
		return checkReg("ct source", c.SourceRegister, 1, false)
	}
	return checkReg("ct destination", c.DestRegister, 1, false)
}

func (c *Ct) marshal(ae *enc) error {
	if c.SourceRegister != 0 {
		putReg(ae, unix.NFTA_CT_SREG, c.SourceRegister)
	} else {
		putReg(ae, unix.NFTA_CT_DREG, c.DestRegister)
	}
	ae.U32(unix.NFTA_CT_KEY, uint32(c.Key))
	if c.Direction != CtDirNone {
		ae.U8(unix.NFTA_CT_DIRECTION, uint8(c.Direction-1))
	}
	return nil
}

func (c *Ct) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_CT_DREG:
			c.DestRegister = getReg(ad)
		case unix.NFTA_CT_SREG:
			c.SourceRegister = getReg(ad)
		case unix.NFTA_CT_KEY:
			c.Key = CtKey(ad.U32())
		case unix.NFTA_CT_DIRECTION:
			c.Direction = CtDir(ad.U8() + 1)
		default:
			return errUnknownAttr
		}
	}
	return nil
}
