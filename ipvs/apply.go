package ipvs

import (
	"context"
	"errors"
	"fmt"
)

// ChangeKind is one step of an Apply plan.
type ChangeKind int

const (
	AddServiceChange ChangeKind = iota
	UpdateServiceChange
	AddDestinationChange
	UpdateDestinationChange
	DeleteDestinationChange
	DeleteServiceChange
)

func (k ChangeKind) String() string {
	return [...]string{"add service", "update service", "add destination", "update destination",
		"delete destination", "delete service"}[k]
}

// Change is one kernel operation of a plan. Old is the state it replaces
// (for updates and deletes), used to roll back.
type Change struct {
	Kind        ChangeKind
	Service     *Service     // the service (desired for adds/updates, current for deletes)
	Destination *Destination // for destination changes
	OldService  *Service     // current service, for UpdateServiceChange
	OldDest     *Destination // current destination, for UpdateDestinationChange
}

func (c Change) String() string {
	s := c.Kind.String() + " " + c.Service.ServiceKey.String()
	if c.Destination != nil {
		s += " -r " + destString(c.Destination.DestinationKey)
	}
	return s
}

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// Rollback undoes the changes already applied, newest first, when a
	// later one fails.
	Rollback bool
	// Manage limits Apply to the current services it returns true for;
	// others are left alone even if absent from the desired set. nil
	// manages every service in the namespace.
	Manage func(ServiceKey) bool
}

// ApplyError reports a failed Apply: the failing change, the changes that
// stayed applied, and the outcome of the rollback if one ran.
type ApplyError struct {
	Err         error    // the kernel's error for Failed
	Failed      Change   // the change that failed
	Applied     []Change // changes applied and still in effect
	RolledBack  bool     // a rollback ran
	RollbackErr error    // a rollback step that failed, if any
}

func (e *ApplyError) Error() string {
	s := fmt.Sprintf("ipvs: apply: %s: %v (%d changes in effect)", e.Failed, e.Err, len(e.Applied))
	if e.RolledBack {
		if e.RollbackErr != nil {
			s += fmt.Sprintf("; rollback failed: %v", e.RollbackErr)
		} else {
			s += "; rolled back"
		}
	}
	return s
}

func (e *ApplyError) Unwrap() error { return e.Err }

func sameServiceConfig(a, b *Service) bool {
	return a.Scheduler == b.Scheduler && a.Flags == b.Flags && a.Timeout == b.Timeout &&
		a.Netmask == b.Netmask && a.PE == b.PE
}

func sameDestConfig(a, b *Destination) bool {
	if a.Forward != b.Forward || a.Weight != b.Weight || a.UpperThreshold != b.UpperThreshold ||
		a.LowerThreshold != b.LowerThreshold {
		return false
	}
	if a.Forward == Tunnel {
		return a.TunnelType == b.TunnelType && a.TunnelPort == b.TunnelPort && a.TunnelFlags == b.TunnelFlags
	}
	return true
}

// Plan computes the changes that turn current into desired, in a safe
// order: new services with their destinations first, then service
// updates, new and changed destinations of existing services, and only
// then removed destinations and removed services. So no service or real
// server stops receiving traffic before what replaces it is in place.
// Unchanged objects produce no change.
func Plan(current, desired []Service, opts *ApplyOptions) ([]Change, error) {
	if opts == nil {
		opts = &ApplyOptions{}
	}
	want := make(map[ServiceKey]*Service, len(desired))
	for i := range desired {
		s := &desired[i]
		if err := s.validate(); err != nil {
			return nil, err
		}
		k := s.ServiceKey.normalize()
		if _, dup := want[k]; dup {
			return nil, invalid("service", k, "appears twice in the desired set")
		}
		seen := map[DestinationKey]bool{}
		for j := range s.Destinations {
			dk := s.Destinations[j].DestinationKey.normalize()
			if seen[dk] {
				return nil, invalid("destination", destString(dk), "appears twice in service "+k.String())
			}
			seen[dk] = true
		}
		want[k] = s
	}
	have := make(map[ServiceKey]*Service, len(current))
	for i := range current {
		have[current[i].ServiceKey.normalize()] = &current[i]
	}
	var adds, updates, destAdds, destDels, svcDels []Change
	for i := range desired {
		s := &desired[i]
		cur, ok := have[s.ServiceKey.normalize()]
		if !ok {
			adds = append(adds, Change{Kind: AddServiceChange, Service: s})
			for j := range s.Destinations {
				adds = append(adds, Change{Kind: AddDestinationChange, Service: s, Destination: &s.Destinations[j]})
			}
			continue
		}
		if !sameServiceConfig(s, cur) {
			updates = append(updates, Change{Kind: UpdateServiceChange, Service: s, OldService: cur})
		}
		curDests := make(map[DestinationKey]*Destination, len(cur.Destinations))
		for j := range cur.Destinations {
			curDests[cur.Destinations[j].DestinationKey.normalize()] = &cur.Destinations[j]
		}
		wantDests := make(map[DestinationKey]bool, len(s.Destinations))
		for j := range s.Destinations {
			d := &s.Destinations[j]
			dk := d.DestinationKey.normalize()
			wantDests[dk] = true
			old, ok := curDests[dk]
			switch {
			case !ok:
				destAdds = append(destAdds, Change{Kind: AddDestinationChange, Service: s, Destination: d})
			case !sameDestConfig(d, old):
				destAdds = append(destAdds, Change{Kind: UpdateDestinationChange, Service: s, Destination: d, OldDest: old})
			}
		}
		for j := range cur.Destinations {
			d := &cur.Destinations[j]
			if !wantDests[d.DestinationKey.normalize()] {
				destDels = append(destDels, Change{Kind: DeleteDestinationChange, Service: cur, Destination: d})
			}
		}
	}
	for i := range current {
		cur := &current[i]
		k := cur.ServiceKey.normalize()
		if _, ok := want[k]; ok {
			continue
		}
		if opts.Manage != nil && !opts.Manage(k) {
			continue
		}
		svcDels = append(svcDels, Change{Kind: DeleteServiceChange, Service: cur})
	}
	plan := append(adds, updates...)
	plan = append(plan, destAdds...)
	plan = append(plan, destDels...)
	return append(plan, svcDels...), nil
}

// queue adds the kernel operation for ch to b.
func (ch Change) queue(b *Batch) {
	k := ch.Service.ServiceKey
	switch ch.Kind {
	case AddServiceChange:
		s := *ch.Service
		s.Destinations = nil // queued as their own changes
		b.AddService(&s)
	case UpdateServiceChange:
		b.UpdateService(ch.Service)
	case AddDestinationChange:
		b.AddDestination(k, ch.Destination)
	case UpdateDestinationChange:
		b.UpdateDestination(k, ch.Destination)
	case DeleteDestinationChange:
		b.DeleteDestination(k, ch.Destination.DestinationKey)
	case DeleteServiceChange:
		b.DeleteService(k)
	}
}

// inverse returns the changes that undo ch.
func (ch Change) inverse() []Change {
	switch ch.Kind {
	case AddServiceChange:
		return []Change{{Kind: DeleteServiceChange, Service: ch.Service}}
	case UpdateServiceChange:
		return []Change{{Kind: UpdateServiceChange, Service: ch.OldService, OldService: ch.Service}}
	case AddDestinationChange:
		return []Change{{Kind: DeleteDestinationChange, Service: ch.Service, Destination: ch.Destination}}
	case UpdateDestinationChange:
		return []Change{{Kind: UpdateDestinationChange, Service: ch.Service, Destination: ch.OldDest, OldDest: ch.Destination}}
	case DeleteDestinationChange:
		return []Change{{Kind: AddDestinationChange, Service: ch.Service, Destination: ch.Destination}}
	case DeleteServiceChange:
		out := []Change{{Kind: AddServiceChange, Service: ch.Service}}
		for j := range ch.Service.Destinations {
			out = append(out, Change{Kind: AddDestinationChange, Service: ch.Service, Destination: &ch.Service.Destinations[j]})
		}
		return out
	}
	return nil
}

// Apply brings the kernel to the desired services and destinations with
// the fewest operations (see Plan for the order), pipelined. It is not
// atomic: on failure it returns an *ApplyError saying what stayed applied,
// after undoing it first when opts.Rollback is set. It is the library
// counterpart of `ipvsadm -C; ipvsadm -R`, without the flush and its
// outage. It returns the changes it applied.
func (c *Conn) Apply(ctx context.Context, desired []Service, opts *ApplyOptions) ([]Change, error) {
	if opts == nil {
		opts = &ApplyOptions{}
	}
	// Validate before reading anything, so bad input costs no I/O.
	if _, err := Plan(nil, desired, opts); err != nil {
		return nil, err
	}
	current, err := c.ListServices(ctx)
	if err != nil {
		return nil, err
	}
	plan, err := Plan(current, desired, opts)
	if err != nil {
		return nil, err
	}
	applied, failed, ferr, err := c.run(ctx, plan, false)
	if err == nil && ferr == nil {
		return applied, nil
	}
	if err != nil && ferr == nil {
		ferr = err
	}
	ae := &ApplyError{Err: ferr, Failed: failed, Applied: applied}
	if opts.Rollback && len(applied) > 0 {
		var undo []Change
		for i := len(applied) - 1; i >= 0; i-- {
			undo = append(undo, applied[i].inverse()...)
		}
		// Undo is best effort: every step is tried.
		_, _, rerr, err := c.run(context.WithoutCancel(ctx), undo, true)
		ae.RolledBack = true
		ae.RollbackErr = errors.Join(rerr, err)
		if ae.RollbackErr == nil {
			ae.Applied = nil
		}
	}
	return ae.Applied, ae
}

// run sends a plan and splits the outcome into applied changes and the
// first failure.
func (c *Conn) run(ctx context.Context, plan []Change, keepGoing bool) (applied []Change, failed Change, ferr, err error) {
	if len(plan) == 0 {
		return nil, Change{}, nil, nil
	}
	b := c.NewBatch()
	b.ContinueOnError = keepGoing
	for _, ch := range plan {
		ch.queue(b)
	}
	res, err := b.Commit(ctx)
	for i, r := range res {
		switch {
		case r.Err == nil:
			applied = append(applied, plan[i])
		case errors.Is(r.Err, ErrNotSent):
		default:
			if ferr == nil {
				failed, ferr = plan[i], r.Err
			}
		}
	}
	if ferr != nil {
		err = nil
	}
	return applied, failed, ferr, err
}
