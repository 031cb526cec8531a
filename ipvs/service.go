package ipvs

import (
	"context"
	"errors"

	"github.com/mdlayher/netlink"
)

// serviceAttrs is the request payload naming a service: full includes the
// configuration (NEW/SET_SERVICE), otherwise only the identity.
func serviceAttrs(s *Service, full bool) ([]byte, error) {
	ae := netlink.NewAttributeEncoder()
	ae.Nested(attrService, func(nae *netlink.AttributeEncoder) error {
		if full {
			s.encode(nae, false)
		} else {
			s.ServiceKey.encode(nae)
		}
		return nil
	})
	return ae.Encode()
}

func destAttrs(k ServiceKey, d *Destination, full bool) ([]byte, error) {
	ae := netlink.NewAttributeEncoder()
	ae.Nested(attrService, func(nae *netlink.AttributeEncoder) error {
		k.encode(nae)
		return nil
	})
	ae.Nested(attrDest, func(nae *netlink.AttributeEncoder) error {
		if full {
			d.encode(nae, false)
		} else {
			// The kernel parses a full destination even for a delete;
			// the identity fields are what it matches on.
			(&Destination{DestinationKey: d.DestinationKey}).encode(nae, false)
		}
		return nil
	})
	return ae.Encode()
}

// AddService creates a virtual service, like `ipvsadm -A -t VIP:PORT -s
// SCHED`. Its Destinations are not added (see AddDestination, Apply). An
// existing service gives an error matching fs.ErrExist.
func (c *Conn) AddService(ctx context.Context, s *Service) error {
	return c.serviceOp(ctx, cmdNewService, "add service", s, true)
}

// UpdateService changes a service's scheduler, flags, persistence and
// persistence engine, like `ipvsadm -E`.
func (c *Conn) UpdateService(ctx context.Context, s *Service) error {
	return c.serviceOp(ctx, cmdSetService, "update service", s, true)
}

// DeleteService removes a service and its destinations, like `ipvsadm -D`.
// A missing service gives an error matching fs.ErrNotExist.
func (c *Conn) DeleteService(ctx context.Context, k ServiceKey) error {
	if err := k.validate(); err != nil {
		return err
	}
	return c.serviceOp(ctx, cmdDelService, "delete service", &Service{ServiceKey: k}, false)
}

func (c *Conn) serviceOp(ctx context.Context, cmd command, op string, s *Service, full bool) error {
	if full {
		if err := s.validate(); err != nil {
			return err
		}
	}
	b, err := serviceAttrs(s, full)
	if err != nil {
		return err
	}
	_, err = c.execute(ctx, cmd, b, op, s.ServiceKey.String())
	return err
}

// GetService reads one service with its destinations and statistics, like
// `ipvsadm -Ln -t VIP:PORT`. A missing service matches fs.ErrNotExist.
func (c *Conn) GetService(ctx context.Context, k ServiceKey) (*Service, error) {
	if err := k.validate(); err != nil {
		return nil, err
	}
	b, err := serviceAttrs(&Service{ServiceKey: k}, false)
	if err != nil {
		return nil, err
	}
	msgs, err := c.execute(ctx, cmdGetService, b, "get service", k.String())
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		raw, ok, err := nested(m, attrService)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		s, err := decodeService(raw)
		if err != nil {
			return nil, err
		}
		s.Destinations, err = c.ListDestinations(ctx, s.ServiceKey)
		return s, err
	}
	return nil, errors.New("ipvs: get service: no service in the reply")
}

// AddDestination adds a real server to a service, like `ipvsadm -a -t
// VIP:PORT -r RIP:PORT -m -w WEIGHT`.
func (c *Conn) AddDestination(ctx context.Context, k ServiceKey, d *Destination) error {
	return c.destOp(ctx, cmdNewDest, "add destination", k, d, true)
}

// UpdateDestination changes a real server's forwarding, weight, thresholds
// and tunnel options, like `ipvsadm -e`.
func (c *Conn) UpdateDestination(ctx context.Context, k ServiceKey, d *Destination) error {
	return c.destOp(ctx, cmdSetDest, "update destination", k, d, true)
}

// DeleteDestination removes a real server, like `ipvsadm -d -t VIP:PORT -r
// RIP:PORT`.
func (c *Conn) DeleteDestination(ctx context.Context, k ServiceKey, d DestinationKey) error {
	return c.destOp(ctx, cmdDelDest, "delete destination", k, &Destination{DestinationKey: d}, false)
}

func (c *Conn) destOp(ctx context.Context, cmd command, op string, k ServiceKey, d *Destination, full bool) error {
	if err := k.validate(); err != nil {
		return err
	}
	if full {
		if err := d.validate(); err != nil {
			return err
		}
	} else if !d.Addr.IsValid() {
		return invalid("destination address", d.Addr, "missing")
	}
	b, err := destAttrs(k, d, full)
	if err != nil {
		return err
	}
	_, err = c.execute(ctx, cmd, b, op, k.String()+" -r "+destString(d.DestinationKey))
	return err
}

func destString(d DestinationKey) string {
	return addrPort(d.Addr, d.Port)
}
