package ipvs

import (
	"net/netip"
	"reflect"
	"slices"
	"testing"
)

// memState is an in-memory IPVS: it applies plan changes with the kernel's
// rules (no duplicate adds, no operations on missing objects).
type memState map[ServiceKey]*Service

func (m memState) apply(t *testing.T, ch Change) {
	t.Helper()
	k := ch.Service.ServiceKey.normalize()
	s, ok := m[k]
	switch ch.Kind {
	case AddServiceChange:
		if ok {
			t.Fatalf("%s: exists", ch)
		}
		c := *ch.Service
		c.ServiceKey, c.Destinations = k, nil
		m[k] = &c
		return
	case DeleteServiceChange:
		if !ok {
			t.Fatalf("%s: missing", ch)
		}
		delete(m, k)
		return
	}
	if !ok {
		t.Fatalf("%s: service missing", ch)
	}
	if ch.Kind == UpdateServiceChange {
		d := s.Destinations
		*s = *ch.Service
		s.ServiceKey, s.Destinations = k, d
		return
	}
	i := slices.IndexFunc(s.Destinations, func(d Destination) bool { return d.DestinationKey == ch.Destination.DestinationKey })
	switch ch.Kind {
	case AddDestinationChange:
		if i >= 0 {
			t.Fatalf("%s: exists", ch)
		}
		s.Destinations = append(s.Destinations, *ch.Destination)
	case UpdateDestinationChange:
		if i < 0 {
			t.Fatalf("%s: missing", ch)
		}
		s.Destinations[i] = *ch.Destination
	case DeleteDestinationChange:
		if i < 0 {
			t.Fatalf("%s: missing", ch)
		}
		s.Destinations = slices.Delete(s.Destinations, i, i+1)
	}
}

func (m memState) list() []Service {
	var out []Service
	for _, s := range m {
		c := *s
		c.Destinations = slices.Clone(s.Destinations)
		slices.SortFunc(c.Destinations, func(a, b Destination) int { return compareDests(a.DestinationKey, b.DestinationKey) })
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Service) int { return compareServices(a.ServiceKey, b.ServiceKey) })
	return out
}

func svc(addr string, port uint16, sched Scheduler, dests ...Destination) Service {
	a := netip.MustParseAddr(addr)
	f := IPv4
	if a.Is6() {
		f = IPv6
	}
	return Service{ServiceKey: ServiceKey{Family: f, Protocol: TCP, Addr: a, Port: port}, Scheduler: sched, Destinations: dests}
}

func dst(addr string, w int) Destination {
	return Destination{DestinationKey: DestinationKey{Addr: netip.MustParseAddr(addr), Port: 8080}, Forward: Masquerade, Weight: w}
}

func TestPlan(t *testing.T) {
	current := []Service{
		svc("192.0.2.1", 80, RoundRobin, dst("198.51.100.1", 1), dst("198.51.100.2", 1)),
		svc("192.0.2.2", 80, RoundRobin, dst("198.51.100.3", 1)),
		svc("192.0.2.3", 80, WeightedRoundRobin, dst("198.51.100.4", 1)),
	}
	desired := []Service{
		// unchanged
		svc("192.0.2.3", 80, WeightedRoundRobin, dst("198.51.100.4", 1)),
		// scheduler change, one server replaced, one reweighted
		svc("192.0.2.1", 80, LeastConnection, dst("198.51.100.1", 5), dst("198.51.100.9", 1)),
		// new service replacing 192.0.2.2
		svc("2001:db8::1", 443, SourceHashing, dst("2001:db8::10", 1)),
	}
	plan, err := Plan(current, desired, nil)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []ChangeKind
	for _, ch := range plan {
		kinds = append(kinds, ch.Kind)
	}
	want := []ChangeKind{AddServiceChange, AddDestinationChange, UpdateServiceChange,
		UpdateDestinationChange, AddDestinationChange, DeleteDestinationChange, DeleteServiceChange}
	if !slices.Equal(kinds, want) {
		t.Fatalf("plan %v, want %v", plan, want)
	}
	// Safety: every delete comes after every add.
	lastAdd, firstDel := -1, len(plan)
	for i, ch := range plan {
		switch ch.Kind {
		case AddServiceChange, AddDestinationChange, UpdateDestinationChange, UpdateServiceChange:
			lastAdd = i
		default:
			firstDel = min(firstDel, i)
		}
	}
	if lastAdd > firstDel {
		t.Errorf("a delete precedes an add: %v", plan)
	}
	// Applying the plan to the current state yields the desired state,
	// and a second plan from there is empty.
	m := memState{}
	for i := range current {
		m.apply(t, Change{Kind: AddServiceChange, Service: &current[i]})
		for j := range current[i].Destinations {
			m.apply(t, Change{Kind: AddDestinationChange, Service: &current[i], Destination: &current[i].Destinations[j]})
		}
	}
	for _, ch := range plan {
		m.apply(t, ch)
	}
	wantState := memState{}
	for i := range desired {
		c := desired[i]
		c.ServiceKey = c.ServiceKey.normalize()
		wantState[c.ServiceKey] = &c
	}
	if !reflect.DeepEqual(m.list(), wantState.list()) {
		t.Errorf("state after plan:\n%+v\nwant\n%+v", m.list(), wantState.list())
	}
	again, err := Plan(m.list(), desired, nil)
	if err != nil || len(again) != 0 {
		t.Errorf("second plan not empty: %v %v", again, err)
	}
	// Rollback: the inverses, newest first, restore the original state.
	for i := len(plan) - 1; i >= 0; i-- {
		for _, inv := range plan[i].inverse() {
			m.apply(t, inv)
		}
	}
	orig := memState{}
	for i := range current {
		c := current[i]
		orig[c.ServiceKey.normalize()] = &c
	}
	if !reflect.DeepEqual(m.list(), orig.list()) {
		t.Errorf("rollback did not restore:\n%+v\nwant\n%+v", m.list(), orig.list())
	}
}

func TestPlanManageAndDuplicates(t *testing.T) {
	current := []Service{svc("192.0.2.1", 80, RoundRobin), svc("192.0.2.2", 80, RoundRobin)}
	plan, err := Plan(current, nil, &ApplyOptions{Manage: func(k ServiceKey) bool { return k.Addr == netip.MustParseAddr("192.0.2.2") }})
	if err != nil || len(plan) != 1 || plan[0].Service.Addr != netip.MustParseAddr("192.0.2.2") {
		t.Errorf("managed plan %v %v", plan, err)
	}
	dup := []Service{svc("192.0.2.1", 80, RoundRobin), svc("192.0.2.1", 80, LeastConnection)}
	if _, err := Plan(nil, dup, nil); err == nil {
		t.Error("duplicate service accepted")
	}
	dupDest := []Service{svc("192.0.2.1", 80, RoundRobin, dst("198.51.100.1", 1), dst("198.51.100.1", 2))}
	if _, err := Plan(nil, dupDest, nil); err == nil {
		t.Error("duplicate destination accepted")
	}
}
