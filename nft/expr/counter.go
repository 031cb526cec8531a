package expr

import (
	"golang.org/x/sys/unix"
)

// Counter counts packets and bytes (nft's `counter`). On a dump it holds
// the kernel's current values; sent with a rule it sets the start values.
type Counter struct {
	Bytes   uint64
	Packets uint64
}

func (c *Counter) Name() string    { return "counter" }
func (c *Counter) validate() error { return nil }

func (c *Counter) marshal(ae *enc) error {
	ae.U64(unix.NFTA_COUNTER_BYTES, c.Bytes)
	ae.U64(unix.NFTA_COUNTER_PACKETS, c.Packets)
	return nil
}

func (c *Counter) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_COUNTER_BYTES:
			c.Bytes = ad.U64()
		case unix.NFTA_COUNTER_PACKETS:
			c.Packets = ad.U64()
		default:
			return errUnknownAttr
		}
	}
	return nil
}
