package ipvs

import (
	"context"
	"fmt"
	"time"

	"github.com/mdlayher/netlink"
)

// Info reads the IPVS version and connection table size, the header line
// of `ipvsadm -Ln`.
func (c *Conn) Info(ctx context.Context) (Info, error) {
	msgs, err := c.execute(ctx, cmdGetInfo, nil, "get info", "")
	if err != nil {
		return Info{}, err
	}
	var info Info
	for _, m := range msgs {
		ad, err := netlink.NewAttributeDecoder(payload(m))
		if err != nil {
			return Info{}, err
		}
		for ad.Next() {
			switch ad.Type() {
			case infoVersion:
				v := ad.Uint32()
				info.Version = fmt.Sprintf("%d.%d.%d", v>>16, (v>>8)&0xff, v&0xff)
			case infoConnTabSize:
				info.ConnTableSize = ad.Uint32()
			}
		}
		if err := ad.Err(); err != nil {
			return Info{}, err
		}
	}
	return info, nil
}

// Timeouts reads the TCP, TCP FIN and UDP timeouts, like `ipvsadm -L
// --timeout`.
func (c *Conn) Timeouts(ctx context.Context) (Timeouts, error) {
	msgs, err := c.execute(ctx, cmdGetConfig, nil, "get timeouts", "")
	if err != nil {
		return Timeouts{}, err
	}
	var t Timeouts
	for _, m := range msgs {
		ad, err := netlink.NewAttributeDecoder(payload(m))
		if err != nil {
			return Timeouts{}, err
		}
		for ad.Next() {
			d := time.Duration(ad.Uint32()) * time.Second
			switch ad.Type() {
			case attrTimeoutTCP:
				t.TCP = d
			case attrTimeoutTCPFin:
				t.TCPFin = d
			case attrTimeoutUDP:
				t.UDP = d
			}
		}
		if err := ad.Err(); err != nil {
			return Timeouts{}, err
		}
	}
	return t, nil
}

// SetTimeouts sets the timeouts, like `ipvsadm --set TCP TCPFIN UDP`; a
// zero field is left unchanged.
func (c *Conn) SetTimeouts(ctx context.Context, t Timeouts) error {
	ae := netlink.NewAttributeEncoder()
	for _, f := range []struct {
		typ  uint16
		name string
		d    time.Duration
	}{{attrTimeoutTCP, "tcp", t.TCP}, {attrTimeoutTCPFin, "tcpfin", t.TCPFin}, {attrTimeoutUDP, "udp", t.UDP}} {
		if f.d < 0 || f.d%time.Second != 0 || f.d/time.Second > 1<<31-1 {
			return invalid("timeout "+f.name, f.d, "want whole seconds")
		}
		if f.d != 0 {
			ae.Uint32(f.typ, uint32(f.d/time.Second))
		}
	}
	b, err := ae.Encode()
	if err != nil {
		return err
	}
	_, err = c.execute(ctx, cmdSetConfig, b, "set timeouts", "")
	return err
}

// Zero resets the counters of one service, or of all services when k is
// nil, like `ipvsadm -Z [-t VIP:PORT]`.
func (c *Conn) Zero(ctx context.Context, k *ServiceKey) error {
	var b []byte
	object := ""
	if k != nil {
		if err := k.validate(); err != nil {
			return err
		}
		var err error
		if b, err = serviceAttrs(&Service{ServiceKey: *k}, false); err != nil {
			return err
		}
		object = k.String()
	}
	_, err := c.execute(ctx, cmdZero, b, "zero counters", object)
	return err
}

// Flush removes every service and destination, like `ipvsadm -C`.
func (c *Conn) Flush(ctx context.Context) error {
	_, err := c.execute(ctx, cmdFlush, nil, "flush", "")
	return err
}
