package expr

// Attribute types (enum nft_last_attributes); x/sys/unix lacks them.
const (
	attrLastSet   = 1 // NFTA_LAST_SET
	attrLastMSecs = 2 // NFTA_LAST_MSECS
)

// Last records when the rule last matched (nft's `last`, listed as `last
// used 1s`): Set is 1 once it has matched, MSecs the time since then.
type Last struct {
	Set   uint32
	MSecs uint64
}

func (l *Last) Name() string { return "last" }

func (l *Last) validate() error {
	if l.Set > 1 {
		return invalidf("last set %d", l.Set)
	}
	return nil
}

func (l *Last) marshal(ae *enc) error {
	ae.U32(attrLastSet, l.Set)
	ae.U64(attrLastMSecs, l.MSecs)
	return nil
}

func (l *Last) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case attrLastSet:
			l.Set = ad.U32()
		case attrLastMSecs:
			l.MSecs = ad.U64()
		default:
			return errUnknownAttr
		}
	}
	return nil
}
