package main

import (
	"errors"

	"github.com/nfkit/nfkit/internal/nstest"
)

// errIPVSMode: the IPVS mode (virtual services on a dummy interface, ipset
// KUBE-LOOP-BACK plus an iptables MASQUERADE rule for hairpin) is not
// written yet; it needs the VM runner, whose default module list lacks the
// xt modules (x_tables, xt_set, xt_MASQUERADE) an iptables rule needs.
var errIPVSMode = errors.New("ipvs mode is not implemented yet in this example (use -mode iptables or -mode nftables)")

func newIPVSProxier(*nstest.NS) (proxier, error) { return nil, errIPVSMode }
