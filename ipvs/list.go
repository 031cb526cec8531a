package ipvs

import (
	"context"
	"errors"
	"iter"
	"sync"

	"github.com/nfkit/nfkit/internal/nlconn"
)

// AllServices streams the services (without destinations), like the
// service lines of `ipvsadm -Ln`. Memory is bounded by one reply datagram.
func (c *Conn) AllServices(ctx context.Context) iter.Seq2[Service, error] {
	return func(yield func(Service, error) bool) {
		for m, err := range c.c.Dump(ctx, c.message(cmdGetService, nil)) {
			if err != nil {
				yield(Service{}, wrap(err, "list services", ""))
				return
			}
			raw, ok, err := nested(m, attrService)
			if err == nil && !ok {
				continue
			}
			var s *Service
			if err == nil {
				s, err = decodeService(raw)
			}
			if err != nil {
				yield(Service{}, err)
				return
			}
			if !yield(*s, nil) {
				return
			}
		}
	}
}

// AllDestinations streams the destinations of one service.
func (c *Conn) AllDestinations(ctx context.Context, k ServiceKey) iter.Seq2[Destination, error] {
	return func(yield func(Destination, error) bool) {
		if err := k.validate(); err != nil {
			yield(Destination{}, err)
			return
		}
		c.dumpDests(ctx, c.c, k, yield)
	}
}

func (c *Conn) dumpDests(ctx context.Context, nc *nlconn.Conn, k ServiceKey, yield func(Destination, error) bool) {
	b, err := serviceAttrs(&Service{ServiceKey: k}, false)
	if err != nil {
		yield(Destination{}, err)
		return
	}
	fam := k.normalize().Family
	for m, err := range nc.Dump(ctx, c.message(cmdGetDest, b)) {
		if err != nil {
			yield(Destination{}, wrap(err, "list destinations", k.String()))
			return
		}
		raw, ok, err := nested(m, attrDest)
		if err == nil && !ok {
			continue
		}
		var d *Destination
		if err == nil {
			d, err = decodeDestination(raw, fam)
		}
		if err != nil {
			yield(Destination{}, err)
			return
		}
		if !yield(*d, nil) {
			return
		}
	}
}

// ListDestinations returns the destinations of one service, like the
// `->` lines of `ipvsadm -Ln -t VIP:PORT`.
func (c *Conn) ListDestinations(ctx context.Context, k ServiceKey) ([]Destination, error) {
	var out []Destination
	for d, err := range c.AllDestinations(ctx, k) {
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// ListServices returns every service with its destinations and
// statistics, like `ipvsadm -Ln --stats` or `ipvsadm -Sn`.
//
// The kernel has no dump of all destinations, only one dump per service,
// and a netlink socket runs one dump at a time; so the destination dumps
// are spread over Config.ListWorkers sockets and overlap, instead of
// costing one blocking round trip each in turn.
func (c *Conn) ListServices(ctx context.Context) ([]Service, error) {
	var svcs []Service
	for s, err := range c.AllServices(ctx) {
		if err != nil {
			return nil, err
		}
		svcs = append(svcs, s)
	}
	if len(svcs) == 0 {
		return svcs, nil
	}
	workers := min(c.cfg.ListWorkers, len(svcs))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		next     int
		mu       sync.Mutex
		firstErr error
		gone     = make([]bool, len(svcs))
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
		mu.Unlock()
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nc, err := c.getSocket()
			if err != nil {
				fail(err)
				return
			}
			broken := false
			defer func() {
				if broken {
					nc.Close()
				} else {
					c.putSocket(nc)
				}
			}()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(svcs) || ctx.Err() != nil {
					return
				}
				var dests []Destination
				var derr error
				c.dumpDests(ctx, nc, svcs[i].ServiceKey, func(d Destination, err error) bool {
					if err != nil {
						derr = err
						return false
					}
					dests = append(dests, d)
					return true
				})
				if derr != nil {
					// A service deleted between the two dumps is simply gone.
					if errors.Is(derr, errNoService) {
						gone[i] = true
						continue
					}
					broken = ctx.Err() != nil
					fail(derr)
					return
				}
				svcs[i].Destinations = dests
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	out := svcs[:0]
	for i, s := range svcs {
		if !gone[i] {
			out = append(out, s)
		}
	}
	return out, nil
}
