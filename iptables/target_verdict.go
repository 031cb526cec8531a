package iptables

// Verdict is one of the standard targets ACCEPT, DROP, RETURN, QUEUE.
type Verdict struct{ Kind string }

// The standard verdicts.
var (
	Accept = &Verdict{Kind: "ACCEPT"}
	Drop   = &Verdict{Kind: "DROP"}
	Return = &Verdict{Kind: "RETURN"}
	Queue  = &Verdict{Kind: "QUEUE"}
)

func (v *Verdict) Name() string                                 { return v.Kind }
func (v *Verdict) Revision() uint8                              { return 0 }
func (v *Verdict) isTarget()                                    {}
func (v *Verdict) parse(*optParser, string, bool) (bool, error) { return false, nil }
func (v *Verdict) check(Family) error                           { return nil }
func (v *Verdict) save(*textBuf, Family)                        {}
func (v *Verdict) info(Family) []byte                           { return nil }
func (v *Verdict) setInfo(Family, []byte) error                 { return nil }

// Jump is -j CHAIN (or -g CHAIN with Goto) to a user-defined chain.
type Jump struct {
	Chain string
	Goto  bool
}

func (j *Jump) Name() string                                 { return j.Chain }
func (j *Jump) Revision() uint8                              { return 0 }
func (j *Jump) isTarget()                                    {}
func (j *Jump) parse(*optParser, string, bool) (bool, error) { return false, nil }
func (j *Jump) check(Family) error                           { return checkChainName(j.Chain) }
func (j *Jump) save(*textBuf, Family)                        {}
func (j *Jump) info(Family) []byte                           { return nil }
func (j *Jump) setInfo(Family, []byte) error                 { return nil }
