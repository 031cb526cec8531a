package expr

import "golang.org/x/sys/unix"

// HashType is enum nft_hash_types.
type HashType uint32

const (
	HashJenkins HashType = unix.NFT_HASH_JENKINS // `jhash ip saddr mod 4 seed 0x1`
	HashSym     HashType = unix.NFT_HASH_SYM     // `symhash mod 2`
)

func (t HashType) String() string {
	return enumString(uint32(t), []string{"jhash", "symhash"}, "HashType")
}

// Hash writes hash(key) mod Modulus + Offset to DestRegister (nft's
// `jhash ip saddr . tcp sport mod 2 seed 0xdead`, `symhash mod 4`).
type Hash struct {
	SourceRegister Register // jhash only
	DestRegister   Register
	Len            uint32 // jhash only
	Modulus        uint32
	Seed           uint32 // jhash; SeedSet false means the kernel chose one
	SeedSet        bool
	Offset         uint32 // left out when 0, as nft and the kernel do
	Type           HashType
}

func (h *Hash) Name() string { return "hash" }

func (h *Hash) validate() error {
	if h.Modulus == 0 || h.Type > HashSym {
		return invalidf("hash type %d modulus %d", uint32(h.Type), h.Modulus)
	}
	if h.Type == HashJenkins {
		if h.Len == 0 || h.Len > maxData {
			return invalidf("jhash len %d", h.Len)
		}
		if err := checkReg("hash source", h.SourceRegister, int(h.Len), false); err != nil {
			return err
		}
	}
	return checkReg("hash destination", h.DestRegister, 4, false)
}

// marshal follows the kernel's dump: the symhash form has no source,
// length or seed.
func (h *Hash) marshal(ae *enc) error {
	jh := h.Type == HashJenkins
	if jh {
		putReg(ae, unix.NFTA_HASH_SREG, h.SourceRegister)
	}
	putReg(ae, unix.NFTA_HASH_DREG, h.DestRegister)
	if jh {
		ae.U32(unix.NFTA_HASH_LEN, h.Len)
	}
	ae.U32(unix.NFTA_HASH_MODULUS, h.Modulus)
	if jh && h.SeedSet {
		ae.U32(unix.NFTA_HASH_SEED, h.Seed)
	}
	if h.Offset != 0 {
		ae.U32(unix.NFTA_HASH_OFFSET, h.Offset)
	}
	ae.U32(unix.NFTA_HASH_TYPE, uint32(h.Type))
	return nil
}

func (h *Hash) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_HASH_SREG:
			h.SourceRegister = getReg(ad)
		case unix.NFTA_HASH_DREG:
			h.DestRegister = getReg(ad)
		case unix.NFTA_HASH_LEN:
			h.Len = ad.U32()
		case unix.NFTA_HASH_MODULUS:
			h.Modulus = ad.U32()
		case unix.NFTA_HASH_SEED:
			h.Seed, h.SeedSet = ad.U32(), true
		case unix.NFTA_HASH_OFFSET:
			h.Offset = ad.U32()
		case unix.NFTA_HASH_TYPE:
			h.Type = HashType(ad.U32())
		default:
			return errUnknownAttr
		}
	}
	return nil
}
