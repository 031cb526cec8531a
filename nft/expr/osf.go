package expr

// OsfTTL is how osf compares the packet's TTL with the fingerprint's
// (NF_OSF_TTL_*).
type OsfTTL uint8

const (
	OsfTTLTrue    OsfTTL = 0 // NF_OSF_TTL_TRUE: the default, same subnet only
	OsfTTLLoose   OsfTTL = 1 // NF_OSF_TTL_LESS: `osf ttl loose`, TTL at most the fingerprint's
	OsfTTLNoCheck OsfTTL = 2 // NF_OSF_TTL_NOCHECK: `osf ttl skip`
)

func (t OsfTTL) String() string {
	return enumString(uint32(t), []string{"", "loose", "skip"}, "OsfTTL")
}

// OsfVersion (NFT_OSF_F_VERSION) loads "genre:version" instead of the
// genre alone (`osf version "Linux:4.1"`).
const OsfVersion uint32 = 1

// Attribute types (enum nft_osf_attributes); x/sys/unix lacks them.
const (
	attrOsfDreg  = 1 // NFTA_OSF_DREG
	attrOsfTTL   = 2 // NFTA_OSF_TTL
	attrOsfFlags = 3 // NFTA_OSF_FLAGS
)

// osfGenreLen is NFT_OSF_MAXGENRELEN: what osf loads into the register.
const osfGenreLen = 16

// Osf loads the operating system name that passive fingerprinting finds
// for a SYN (nft's `osf name "Linux"`, `osf ttl loose version
// "Linux:4.1"`, compared by a following Cmp); it needs the fingerprints
// loaded with nfnl_osf and works in ip/inet prerouting, input, forward.
type Osf struct {
	DestRegister Register
	TTL          OsfTTL
	Flags        uint32 // 0 or OsfVersion
	// SentForm writes the attributes as nft 1.0.6 sends them (DREG, TTL,
	// then FLAGS only when non-zero) instead of the kernel's dump order
	// (TTL, FLAGS, DREG). The kernel accepts both; decoding sets it when
	// the attributes came in nft's form.
	SentForm bool
}

func (o *Osf) Name() string { return "osf" }

func (o *Osf) validate() error {
	if o.TTL > OsfTTLNoCheck {
		return invalidf("osf ttl %d", uint8(o.TTL))
	}
	if o.Flags&^OsfVersion != 0 {
		return invalidf("osf flags %#x", o.Flags)
	}
	return checkReg("osf destination", o.DestRegister, osfGenreLen, false)
}

func (o *Osf) marshal(ae *enc) error {
	if o.SentForm {
		putReg(ae, attrOsfDreg, o.DestRegister)
		ae.U8(attrOsfTTL, uint8(o.TTL))
		if o.Flags != 0 {
			ae.U32(attrOsfFlags, o.Flags)
		}
		return nil
	}
	ae.U8(attrOsfTTL, uint8(o.TTL))
	ae.U32(attrOsfFlags, o.Flags)
	putReg(ae, attrOsfDreg, o.DestRegister)
	return nil
}

func (o *Osf) unmarshal(ad *dec) error {
	first := true
	for ad.Next() {
		switch ad.Kind() {
		case attrOsfDreg:
			o.DestRegister = getReg(ad)
			o.SentForm = first // nft puts the register first, the kernel last
		case attrOsfTTL:
			o.TTL = OsfTTL(ad.U8())
		case attrOsfFlags:
			o.Flags = ad.U32()
		default:
			return errUnknownAttr
		}
		first = false
	}
	return nil
}
