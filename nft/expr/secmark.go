package expr

// attrSecmarkCtx is NFTA_SECMARK_CTX (x/sys/unix lacks it).
const attrSecmarkCtx = 1

// Secmark sets the packet's security context (nft's `meta secmark set
// "name"` refers to a secmark object; this expression form carries the
// SELinux context itself).
type Secmark struct{ Ctx string }

func (s *Secmark) Name() string    { return "secmark" }
func (s *Secmark) validate() error { return checkName("secmark context", s.Ctx) }

func (s *Secmark) marshal(ae *enc) error {
	ae.String(attrSecmarkCtx, s.Ctx)
	return nil
}

func (s *Secmark) unmarshal(ad *dec) error {
	for ad.Next() {
		if ad.Kind() != attrSecmarkCtx {
			return errUnknownAttr
		}
		s.Ctx = ad.String()
	}
	return nil
}
