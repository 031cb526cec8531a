package expr

// ConnlimitInvert (NFT_CONNLIMIT_F_INV) matches when the count is over
// the limit (`ct count over 10`) rather than at or under it.
const ConnlimitInvert uint32 = 1

// Connlimit matches on the number of connections sharing the packet's
// conntrack zone and key (nft's `ct count 10`, `ct count over 10`, mostly
// inside a dynset keyed by source address).
type Connlimit struct {
	Count uint32
	Flags uint32
}

func (c *Connlimit) Name() string { return "connlimit" }

// Attribute types (enum nft_connlimit_attributes); x/sys/unix lacks them.
const (
	attrConnlimitCount = 1 // NFTA_CONNLIMIT_COUNT
	attrConnlimitFlags = 2 // NFTA_CONNLIMIT_FLAGS
)

func (c *Connlimit) validate() error {
	if c.Flags&^ConnlimitInvert != 0 {
		return invalidf("connlimit flags %#x", c.Flags)
	}
	return nil
}

func (c *Connlimit) marshal(ae *enc) error {
	ae.U32(attrConnlimitCount, c.Count)
	ae.U32(attrConnlimitFlags, c.Flags)
	return nil
}

func (c *Connlimit) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case attrConnlimitCount:
			c.Count = ad.U32()
		case attrConnlimitFlags:
			c.Flags = ad.U32()
		default:
			return errUnknownAttr
		}
	}
	return nil
}
