package ipvs

import (
	"context"
	"encoding/binary"
	"errors"
	"iter"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/mdlayher/netlink"
	"github.com/nfkit/nfkit/internal/nlconn"
)

// AllServices streams the services (without destinations), like the
// service lines of `ipvsadm -Ln`. Memory is bounded by one reply datagram.
func (c *Conn) AllServices(ctx context.Context) iter.Seq2[Service, error] {
	return c.allServices(ctx, c.c)
}

func (c *Conn) allServices(ctx context.Context, nc *nlconn.Conn) iter.Seq2[Service, error] {
	return func(yield func(Service, error) bool) {
		for m, err := range nc.Dump(ctx, c.message(cmdGetService, nil)) {
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

// destScratch is a ListServices worker's reusable space: the GET_DEST
// request is built into req, and a service's servers are decoded into d,
// st and has and copied out in two allocations (servers, states) instead
// of a few per server. Under a slow CPU the garbage collector's share of
// listing time followed the allocation count.
type destScratch struct {
	req []byte
	d   []Destination
	st  []DestinationState
	has []bool
}

// appendDestRequest appends the payload of a GET_DEST request for service
// k (genetlink header, then the service key nest) to b: what
// c.message(cmdGetDest, serviceAttrs(k)) builds, without the attribute
// encoder's allocations, which were a twentieth of a listing's CPU time.
// TestAppendDestRequest holds the two equal.
func appendDestRequest(b []byte, k ServiceKey) []byte {
	k = k.normalize()
	b = append(b, byte(cmdGetDest), genlVersion, 0, 0)
	nest := len(b)
	b = appendAttr(b, attrService|netlink.Nested, nil)
	b = appendAttr(b, svcAF, binary.NativeEndian.AppendUint16(nil, uint16(k.Family)))
	if k.FWMark != 0 {
		b = appendAttr(b, svcFWMark, binary.NativeEndian.AppendUint32(nil, k.FWMark))
	} else {
		b = appendAttr(b, svcProtocol, binary.NativeEndian.AppendUint16(nil, uint16(k.Protocol)))
		if k.Addr.IsValid() {
			b = appendAttr(b, svcAddr, addr16(k.Addr))
		}
		b = appendAttr(b, svcPort, binary.BigEndian.AppendUint16(nil, k.Port))
	}
	binary.NativeEndian.PutUint16(b[nest:], uint16(len(b)-nest))
	return b
}

// appendAttr appends one attribute, padded to four bytes.
func appendAttr(b []byte, typ uint16, data []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(4+len(data)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// listDests dumps one service's destinations (nc must not be running
// another dump).
func (c *Conn) listDests(ctx context.Context, nc *nlconn.Conn, k ServiceKey, sc *destScratch) ([]Destination, error) {
	sc.d, sc.st, sc.has = sc.d[:0], sc.st[:0], sc.has[:0]
	sc.req = appendDestRequest(sc.req[:0], k)
	fam := k.normalize().Family
	req := netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(c.family)}, Data: sc.req}
	// Borrowed messages: each is decoded into values of our own (the
	// addresses and unknown attributes copied) before the next is read.
	for m, err := range nc.DumpBorrowed(ctx, req) {
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
	// The services are dumped on an extra socket too (the first worker
	// then reuses it), so that a listing cut short by ctx, which can
	// leave the kernel's dump running on its socket, only costs that
	// socket: it is closed, and the Conn's own socket stays usable.
	nc, err := c.getSocket()
	if err != nil {
		return nil, err
	}
	var svcs []Service
	for s, err := range c.allServices(ctx, nc) {
		if err != nil {
			if ctx.Err() != nil {
				nc.Close()
			} else {
				c.putSocket(nc)
			}
			return nil, err
		}
		svcs = append(svcs, s)
	}
	c.putSocket(nc)
	if len(svcs) == 0 {
		return svcs, nil
	}
	workers := min(c.cfg.ListWorkers, len(svcs))
	// A failing worker stops the others through stop, not by cancelling
	// a derived context: a cancellable context costs every dump a
	// context.AfterFunc armed and disarmed (nlconn's read-deadline watch),
	// and the others' dumps in flight end within one reply anyway.
	var (
		wg       sync.WaitGroup
		next     atomic.Int64
		stop     atomic.Bool
		mu       sync.Mutex
		firstErr error
		gone     = make([]bool, len(svcs))
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		stop.Store(true)
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
				i := int(next.Add(1) - 1)
				if i >= len(svcs) || stop.Load() {
					return
				}
				if err := ctx.Err(); err != nil {
					// Not a silent return: the services left
					// unread would be returned without servers.
					fail(err)
					return
				}
				dests, derr := c.listDests(ctx, nc, svcs[i].ServiceKey, &scratch)
				if derr != nil {
					// A service deleted between the two dumps is simply gone.
					if errors.Is(derr, errNoService) {
						gone[i] = true
						continue
					}
					// A dump cut short by the caller's context may
					// leave replies queued: that socket is not reused.
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
