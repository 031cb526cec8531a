package expr

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// BitwiseOp is enum nft_bitwise_ops.
type BitwiseOp uint32

const (
	BitwiseMaskXor BitwiseOp = 0 // NFT_BITWISE_MASK_XOR (formerly BOOL): dst = (src & Mask) ^ Xor
	BitwiseLShift  BitwiseOp = 1 // NFT_BITWISE_LSHIFT: dst = src << Data (host-order u32 words)
	BitwiseRShift  BitwiseOp = 2 // NFT_BITWISE_RSHIFT
	BitwiseAnd     BitwiseOp = 3 // NFT_BITWISE_AND: dst = src & src2 (Linux 6.13)
	BitwiseOr      BitwiseOp = 4 // NFT_BITWISE_OR
	BitwiseXor     BitwiseOp = 5 // NFT_BITWISE_XOR
)

func (o BitwiseOp) String() string {
	switch o {
	case BitwiseMaskXor:
		return "mask-xor"
	case BitwiseLShift:
		return "lshift"
	case BitwiseRShift:
		return "rshift"
	case BitwiseAnd:
		return "and"
	case BitwiseOr:
		return "or"
	case BitwiseXor:
		return "xor"
	}
	return fmt.Sprintf("BitwiseOp(%d)", uint32(o))
}

// Bitwise computes DestRegister from Len bytes of SourceRegister (nft's
// `ip saddr 10.0.0.0/8` masks before comparing; `ct mark & 0xff`;
// `meta mark << 8`). MaskXor uses Mask and Xor (each Len bytes); the
// shifts use Data (a 4-byte host-order shift amount); And/Or/Xor combine
// with SourceRegister2.
type Bitwise struct {
	SourceRegister  Register
	SourceRegister2 Register // And, Or, Xor
	DestRegister    Register
	Len             uint32
	Op              BitwiseOp
	Mask, Xor       []byte // MaskXor
	Data            []byte // LShift, RShift
}

func (b *Bitwise) Name() string { return "bitwise" }

func (b *Bitwise) validate() error {
	if b.Len == 0 || b.Len > maxData {
		return invalidf("bitwise len %d (want 1..%d)", b.Len, maxData)
	}
	if err := checkReg("bitwise source", b.SourceRegister, int(b.Len), false); err != nil {
		return err
	}
	if err := checkReg("bitwise destination", b.DestRegister, int(b.Len), false); err != nil {
		return err
	}
	switch b.Op {
	case BitwiseMaskXor:
		if len(b.Mask) != int(b.Len) || len(b.Xor) != int(b.Len) {
			return invalidf("bitwise mask of %d and xor of %d bytes for len %d", len(b.Mask), len(b.Xor), b.Len)
		}
		if b.Data != nil || b.SourceRegister2 != 0 {
			return invalidf("bitwise %s with shift data or second register", b.Op)
		}
	case BitwiseLShift, BitwiseRShift:
		if len(b.Data) != 4 || b.Mask != nil || b.Xor != nil || b.SourceRegister2 != 0 {
			return invalidf("bitwise %s wants 4 bytes of data only (have %d)", b.Op, len(b.Data))
		}
	case BitwiseAnd, BitwiseOr, BitwiseXor:
		if b.Mask != nil || b.Xor != nil || b.Data != nil {
			return invalidf("bitwise %s takes a second register, not data", b.Op)
		}
		return checkReg("bitwise second source", b.SourceRegister2, int(b.Len), false)
	default:
		return invalidf("bitwise op %d", uint32(b.Op))
	}
	return nil
}

func (b *Bitwise) marshal(ae *enc) error {
	putReg(ae, unix.NFTA_BITWISE_SREG, b.SourceRegister)
	putReg(ae, unix.NFTA_BITWISE_DREG, b.DestRegister)
	ae.U32(unix.NFTA_BITWISE_LEN, b.Len)
	ae.U32(nftaBitwiseOp, uint32(b.Op))
	switch b.Op {
	case BitwiseMaskXor:
		putValue(ae, unix.NFTA_BITWISE_MASK, b.Mask)
		putValue(ae, unix.NFTA_BITWISE_XOR, b.Xor)
	case BitwiseLShift, BitwiseRShift:
		putValue(ae, nftaBitwiseData, b.Data)
	default:
		putReg(ae, nftaBitwiseSreg2, b.SourceRegister2)
	}
	return nil
}

const (
	nftaBitwiseOp    = 6 // NFTA_BITWISE_OP
	nftaBitwiseData  = 7 // NFTA_BITWISE_DATA
	nftaBitwiseSreg2 = 8 // NFTA_BITWISE_SREG2 (Linux 6.13)
)

func (b *Bitwise) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_BITWISE_SREG:
			b.SourceRegister = getReg(ad)
		case unix.NFTA_BITWISE_DREG:
			b.DestRegister = getReg(ad)
		case unix.NFTA_BITWISE_LEN:
			b.Len = ad.U32()
		case nftaBitwiseOp:
			b.Op = BitwiseOp(ad.U32())
		case unix.NFTA_BITWISE_MASK:
			b.Mask = getValue(ad)
		case unix.NFTA_BITWISE_XOR:
			b.Xor = getValue(ad)
		case nftaBitwiseData:
			b.Data = getValue(ad)
		case nftaBitwiseSreg2:
			b.SourceRegister2 = getReg(ad)
		default:
			return errUnknownAttr
		}
	}
	return nil
}
