package expr

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Notrack skips connection tracking for the packet (nft's `notrack`). It
// has no attributes.
type Notrack struct{}

func (n *Notrack) Name() string            { return "notrack" }
func (n *Notrack) validate() error         { return nil }
func (n *Notrack) marshal(ae *enc) error   { return nil }
func (n *Notrack) unmarshal(ad *dec) error { return errUnknownAttr }

// Quota matches until Bytes have passed (nft's `quota 10 mbytes`, `quota
// over 1 gbytes` with Invert). Consumed is the kernel's running count.
type Quota struct {
	Bytes    uint64
	Consumed uint64
	Invert   bool
	Depleted bool // NFT_QUOTA_F_DEPLETED, reported by the kernel
}

func (q *Quota) Name() string    { return "quota" }
func (q *Quota) validate() error { return nil }

func (q *Quota) marshal(ae *enc) error {
	ae.U64(unix.NFTA_QUOTA_BYTES, q.Bytes)
	ae.U64(unix.NFTA_QUOTA_CONSUMED, q.Consumed)
	var f uint32
	if q.Invert {
		f |= unix.NFT_QUOTA_F_INV
	}
	if q.Depleted {
		f |= unix.NFT_QUOTA_F_DEPLETED
	}
	ae.U32(unix.NFTA_QUOTA_FLAGS, f)
	return nil
}

func (q *Quota) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_QUOTA_BYTES:
			q.Bytes = ad.U64()
		case unix.NFTA_QUOTA_FLAGS:
			f := ad.U32()
			if f&^(unix.NFT_QUOTA_F_INV|unix.NFT_QUOTA_F_DEPLETED) != 0 {
				return errUnknownAttr
			}
			q.Invert, q.Depleted = f&unix.NFT_QUOTA_F_INV != 0, f&unix.NFT_QUOTA_F_DEPLETED != 0
		case unix.NFTA_QUOTA_CONSUMED:
			q.Consumed = ad.U64()
		default:
			return errUnknownAttr
		}
	}
	return nil
}

// FibResult is enum nft_fib_result.
type FibResult uint32

const (
	FibResultOif      FibResult = unix.NFT_FIB_RESULT_OIF
	FibResultOifname  FibResult = unix.NFT_FIB_RESULT_OIFNAME
	FibResultAddrtype FibResult = unix.NFT_FIB_RESULT_ADDRTYPE
)

func (r FibResult) String() string {
	switch r {
	case FibResultOif:
		return "oif"
	case FibResultOifname:
		return "oifname"
	case FibResultAddrtype:
		return "type"
	}
	return fmt.Sprintf("FibResult(%d)", uint32(r))
}

// Fib flags (enum nft_fib_flags).
const (
	FibFlagSaddr   uint32 = unix.NFTA_FIB_F_SADDR
	FibFlagDaddr   uint32 = unix.NFTA_FIB_F_DADDR
	FibFlagMark    uint32 = unix.NFTA_FIB_F_MARK
	FibFlagIif     uint32 = unix.NFTA_FIB_F_IIF
	FibFlagOif     uint32 = unix.NFTA_FIB_F_OIF
	FibFlagPresent uint32 = unix.NFTA_FIB_F_PRESENT
	fibFlagsAll    uint32 = 0x3f
)

// Fib looks the packet up in the routing table (nft's `fib saddr . iif oif
// missing drop`, `fib daddr type local`).
type Fib struct {
	DestRegister Register
	Result       FibResult
	Flags        uint32
}

func (f *Fib) Name() string { return "fib" }

func (f *Fib) validate() error {
	if f.Result < FibResultOif || f.Result > FibResultAddrtype {
		return invalidf("fib result %d", uint32(f.Result))
	}
	if f.Flags&^fibFlagsAll != 0 {
		return invalidf("fib flags %#x", f.Flags)
	}
	return checkReg("fib destination", f.DestRegister, 4, false)
}

func (f *Fib) marshal(ae *enc) error {
	putReg(ae, unix.NFTA_FIB_DREG, f.DestRegister)
	ae.U32(unix.NFTA_FIB_RESULT, uint32(f.Result))
	ae.U32(unix.NFTA_FIB_FLAGS, f.Flags)
	return nil
}

func (f *Fib) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_FIB_DREG:
			f.DestRegister = getReg(ad)
		case unix.NFTA_FIB_RESULT:
			f.Result = FibResult(ad.U32())
		case unix.NFTA_FIB_FLAGS:
			f.Flags = ad.U32()
		default:
			return errUnknownAttr
		}
	}
	return nil
}
