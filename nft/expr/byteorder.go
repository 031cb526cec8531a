package expr

import "golang.org/x/sys/unix"

// ByteorderOp is enum nft_byteorder_ops.
type ByteorderOp uint32

const (
	ByteorderNtoh ByteorderOp = unix.NFT_BYTEORDER_NTOH // network to host order
	ByteorderHton ByteorderOp = unix.NFT_BYTEORDER_HTON // host to network order
)

func (o ByteorderOp) String() string {
	return enumString(uint32(o), []string{"ntoh", "hton"}, "ByteorderOp")
}

// Byteorder converts Len bytes of SourceRegister between host and network
// order in Size-byte words (nft inserts it for `meta mark . ip saddr`
// concatenations and arithmetic on header fields).
type Byteorder struct {
	SourceRegister Register
	DestRegister   Register
	Op             ByteorderOp
	Len            uint32
	Size           uint32 // 2, 4 or 8
}

func (b *Byteorder) Name() string { return "byteorder" }

func (b *Byteorder) validate() error {
	if b.Op > ByteorderHton || (b.Size != 2 && b.Size != 4 && b.Size != 8) || b.Len == 0 || b.Len > maxData {
		return invalidf("byteorder op %d size %d len %d", uint32(b.Op), b.Size, b.Len)
	}
	if err := checkReg("byteorder source", b.SourceRegister, int(b.Len), false); err != nil {
		return err
	}
	return checkReg("byteorder destination", b.DestRegister, int(b.Len), false)
}

func (b *Byteorder) marshal(ae *enc) error {
	putReg(ae, unix.NFTA_BYTEORDER_SREG, b.SourceRegister)
	putReg(ae, unix.NFTA_BYTEORDER_DREG, b.DestRegister)
	ae.U32(unix.NFTA_BYTEORDER_OP, uint32(b.Op))
	ae.U32(unix.NFTA_BYTEORDER_LEN, b.Len)
	ae.U32(unix.NFTA_BYTEORDER_SIZE, b.Size)
	return nil
}

func (b *Byteorder) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_BYTEORDER_SREG:
			b.SourceRegister = getReg(ad)
		case unix.NFTA_BYTEORDER_DREG:
			b.DestRegister = getReg(ad)
		case unix.NFTA_BYTEORDER_OP:
			b.Op = ByteorderOp(ad.U32())
		case unix.NFTA_BYTEORDER_LEN:
			b.Len = ad.U32()
		case unix.NFTA_BYTEORDER_SIZE:
			b.Size = ad.U32()
		default:
			return errUnknownAttr
		}
	}
	return nil
}
