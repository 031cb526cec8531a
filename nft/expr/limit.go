package expr

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// LimitType is enum nft_limit_type.
type LimitType uint32

const (
	LimitPackets LimitType = unix.NFT_LIMIT_PKTS
	LimitBytes   LimitType = unix.NFT_LIMIT_PKT_BYTES
)

func (l LimitType) String() string {
	switch l {
	case LimitPackets:
		return "packets"
	case LimitBytes:
		return "bytes"
	}
	return fmt.Sprintf("LimitType(%d)", uint32(l))
}

// Limit is a token bucket (nft's `limit rate 10/second burst 5 packets`,
// `limit rate over 1 mbytes/second`): Rate per Unit seconds, Burst extra;
// Invert (`over`) matches when the rate is exceeded.
type Limit struct {
	Rate   uint64
	Unit   uint64 // seconds: 1, 60, 3600, 86400, 604800
	Burst  uint32
	Type   LimitType
	Invert bool
}

func (l *Limit) Name() string { return "limit" }

func (l *Limit) validate() error {
	if l.Rate == 0 || l.Unit == 0 {
		return invalidf("limit rate %d per %d s (both must be non-zero)", l.Rate, l.Unit)
	}
	if l.Type > LimitBytes {
		return invalidf("limit type %d", uint32(l.Type))
	}
	return nil
}

func (l *Limit) marshal(ae *enc) error {
	ae.U64(unix.NFTA_LIMIT_RATE, l.Rate)
	ae.U64(unix.NFTA_LIMIT_UNIT, l.Unit)
	ae.U32(unix.NFTA_LIMIT_BURST, l.Burst)
	ae.U32(unix.NFTA_LIMIT_TYPE, uint32(l.Type))
	var f uint32
	if l.Invert {
		f = unix.NFT_LIMIT_F_INV
	}
	ae.U32(unix.NFTA_LIMIT_FLAGS, f)
	return nil
}

func (l *Limit) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_LIMIT_RATE:
			l.Rate = ad.U64()
		case unix.NFTA_LIMIT_UNIT:
			l.Unit = ad.U64()
		case unix.NFTA_LIMIT_BURST:
			l.Burst = ad.U32()
		case unix.NFTA_LIMIT_TYPE:
			l.Type = LimitType(ad.U32())
		case unix.NFTA_LIMIT_FLAGS:
			f := ad.U32()
			if f&^unix.NFT_LIMIT_F_INV != 0 {
				return errUnknownAttr
			}
			l.Invert = f != 0
		default:
			return errUnknownAttr
		}
	}
	return nil
}
