package ipvs

import (
	"context"
	"errors"
	"iter"
	"slices"
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

// destScratch is a ListServices worker's reusable decoding space: a
// service's servers are decoded into it and copied out in two allocations
// (servers, states) instead of a few per server. Under a slow CPU the
// garbage collector's share of listing time followed the allocation count.
type destScratch struct {
	d   []Destination
	st  []DestinationState
	has []bool
}

// listDests dumps one service's destinations (nc must not be running
// another dump).
func (c *Conn) listDests(ctx context.Context, nc *nlconn.Conn, k ServiceKey, sc *destScratch) ([]Destination, error) {
	sc.d, sc.st, sc.has = sc.d[:0], sc.st[:0], sc.has[:0]
	b, err := serviceAttrs(&Service{ServiceKey: k}, false)
	if err != nil {
		return nil, err
	}
	fam := k.normalize().Family
	for m, err := range nc.Dump(ctx, c.message(cmdGetDest, b)) {
		if err != nil {
			return nil, wrap(err, "list destinations", k.String())
		}
		raw, ok, err := nested(m, attrDest)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		sc.d = append(sc.d, Destination{})
		sc.st = append(sc.st, DestinationState{})
		has, err := decodeDestInto(raw, fam, &sc.d[len(sc.d)-1], &sc.st[len(sc.st)-1])
		if err != nil {
			return nil, err
		}
		sc.has = append(sc.has, has)
	}
	if len(sc.d) == 0 {
		return nil, nil
	}
	out := slices.Clone(sc.d)
	n := 0
	for _, h := range sc.has {
		if h {
			n++
		}
	}
	states := make([]DestinationState, 0, n)
	for i := range out {
		if sc.has[i] {
			states = append(states, sc.st[i])
			out[i].State = &states[len(states)-1]
		}
	}
	return out, nil
}

// ListDestinations returns the destinations of one service, like the
// `->` lines of `ipvsadm -Ln -t VIP:PORT`.
func (c *Conn) ListDestinations(ctx context.Context, k ServiceKey) ([]Destination, error) {
	if err := k.validate(); err != nil {
		return nil, err
	}
	var sc destScratch
	return c.listDests(ctx, c.c, k, &sc)
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
			var scratch destScratch
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
				dests, derr := c.listDests(ctx, nc, svcs[i].ServiceKey, &scratch)
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
