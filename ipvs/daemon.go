package ipvs

import (
	"context"

	"github.com/mdlayher/netlink"
)

// StartDaemon starts a connection sync daemon, like `ipvsadm
// --start-daemon master --mcast-interface IF --syncid N`.
func (c *Conn) StartDaemon(ctx context.Context, d *Daemon) error {
	if err := d.validate(); err != nil {
		return err
	}
	ae := netlink.NewAttributeEncoder()
	ae.Nested(attrDaemon, func(nae *netlink.AttributeEncoder) error {
		d.encode(nae)
		return nil
	})
	b, err := ae.Encode()
	if err != nil {
		return err
	}
	_, err = c.execute(ctx, cmdNewDaemon, b, "start sync daemon", d.State.String())
	return err
}

// StopDaemon stops the master or backup sync daemon, like `ipvsadm
// --stop-daemon master`.
func (c *Conn) StopDaemon(ctx context.Context, state DaemonState) error {
	if state != Master && state != Backup {
		return invalid("daemon state", state, "want Master or Backup")
	}
	ae := netlink.NewAttributeEncoder()
	ae.Nested(attrDaemon, func(nae *netlink.AttributeEncoder) error {
		nae.Uint32(dmnState, uint32(state))
		return nil
	})
	b, err := ae.Encode()
	if err != nil {
		return err
	}
	_, err = c.execute(ctx, cmdDelDaemon, b, "stop sync daemon", state.String())
	return err
}

// ListDaemons returns the running sync daemons, like `ipvsadm -L
// --daemon`.
func (c *Conn) ListDaemons(ctx context.Context) ([]Daemon, error) {
	var out []Daemon
	for m, err := range c.c.Dump(ctx, c.message(cmdGetDaemon, nil)) {
		if err != nil {
			return nil, wrap(err, "list sync daemons", "")
		}
		raw, ok, err := nested(m, attrDaemon)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		d, err := decodeDaemon(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, nil
}
