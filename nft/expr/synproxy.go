package expr

// SynproxyFlags are the NF_SYNPROXY_OPT_* options.
type SynproxyFlags uint32

const (
	SynproxyMSS       SynproxyFlags = 0x01 // NF_SYNPROXY_OPT_MSS
	SynproxyWscale    SynproxyFlags = 0x02 // NF_SYNPROXY_OPT_WSCALE
	SynproxySackPerm  SynproxyFlags = 0x04 // NF_SYNPROXY_OPT_SACK_PERM
	SynproxyTimestamp SynproxyFlags = 0x08 // NF_SYNPROXY_OPT_TIMESTAMP
	SynproxyECN       SynproxyFlags = 0x10 // NF_SYNPROXY_OPT_ECN
	synproxyFlagsAll  SynproxyFlags = 0x1f
)

func (f SynproxyFlags) String() string {
	return flagString(uint32(f), []string{"mss", "wscale", "sack-perm", "timestamp", "ecn"})
}

// Attribute types (enum nft_synproxy_attributes); x/sys/unix lacks them.
const (
	attrSynproxyMSS    = 1 // NFTA_SYNPROXY_MSS
	attrSynproxyWscale = 2 // NFTA_SYNPROXY_WSCALE
	attrSynproxyFlags  = 3 // NFTA_SYNPROXY_FLAGS
)

// Synproxy answers SYNs with cookies (nft's `synproxy mss 1460 wscale 7
// timestamp sack-perm`).
type Synproxy struct {
	MSS    uint16
	Wscale uint8
	Flags  SynproxyFlags
}

func (s *Synproxy) Name() string { return "synproxy" }

// validate refuses options the kernel does not know (it answers
// EOPNOTSUPP to them).
func (s *Synproxy) validate() error {
	if s.Flags&^synproxyFlagsAll != 0 {
		return invalidf("synproxy flags %#x", uint32(s.Flags))
	}
	return nil
}

func (s *Synproxy) marshal(ae *enc) error {
	ae.U16(attrSynproxyMSS, s.MSS)
	ae.U8(attrSynproxyWscale, s.Wscale)
	ae.U32(attrSynproxyFlags, uint32(s.Flags))
	return nil
}

func (s *Synproxy) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case attrSynproxyMSS:
			s.MSS = ad.U16()
		case attrSynproxyWscale:
			s.Wscale = ad.U8()
		case attrSynproxyFlags:
			s.Flags = SynproxyFlags(ad.U32())
		default:
			return errUnknownAttr
		}
	}
	return nil
}
