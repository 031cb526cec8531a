package conntrack

import (
	"context"
	"errors"
	"iter"

	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/nfnl"
	"github.com/nfkit/nfkit/internal/nlconn"
)

// Groups selects the event groups Listen subscribes to.
type Groups uint32

// Event groups (NFNLGRP_CONNTRACK_*).
const (
	GroupNew                Groups = 1 << (groupNew - 1)
	GroupUpdate             Groups = 1 << (groupUpdate - 1)
	GroupDestroy            Groups = 1 << (groupDestroy - 1)
	GroupExpectationNew     Groups = 1 << (groupExpNew - 1)
	GroupExpectationUpdate  Groups = 1 << (groupExpUpdate - 1)
	GroupExpectationDestroy Groups = 1 << (groupExpDestroy - 1)

	GroupFlows        = GroupNew | GroupUpdate | GroupDestroy
	GroupExpectations = GroupExpectationNew | GroupExpectationUpdate | GroupExpectationDestroy
)

// EventType says what happened.
type EventType uint8

// Event types.
const (
	EventNew EventType = iota + 1
	EventUpdate
	EventDestroy
	EventExpectationNew
	EventExpectationDestroy
)

func (t EventType) String() string {
	switch t {
	case EventNew:
		return "NEW"
	case EventUpdate:
		return "UPDATE"
	case EventDestroy:
		return "DESTROY"
	case EventExpectationNew:
		return "EXP_NEW"
	case EventExpectationDestroy:
		return "EXP_DESTROY"
	}
	return "UNKNOWN"
}

// Event is one conntrack notification. Flow is set for flow events,
// Expectation for expectation events.
type Event struct {
	Type        EventType
	Flow        *Flow
	Expectation *Expectation
}

// Listen streams events of groups, like `conntrack -E`, on a socket of
// its own with a large receive buffer (Config.EventBuffer). Flow events
// that do not pass filter are dropped (in Go; expectation events are not
// filtered). When the kernel drops events because the buffer overflowed,
// Listen yields ErrEventsLost and goes on: the consumer should resync
// with a dump. A message that cannot be decoded is yielded as an error and
// skipped. The stream ends when ctx is cancelled (without an error) or
// the consumer stops.
func (c *Conn) Listen(ctx context.Context, groups Groups, filter Filter) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		if groups == 0 {
			groups = GroupFlows
		}
		if groups&^(GroupFlows|GroupExpectations) != 0 {
			yield(Event{}, invalid("groups", uint32(groups), "unknown event group bits"))
			return
		}
		if err := filter.validate(); err != nil {
			yield(Event{}, err)
			return
		}
		buf := c.cfg.EventBuffer
		if buf == 0 {
			buf = 16 << 20
		}
		nl, err := c.nl.DialSibling(unix.NETLINK_NETFILTER, nlconn.Config{NetNS: c.cfg.NetNS, Groups: uint32(groups), ReadBuffer: buf})
		if err != nil {
			yield(Event{}, err)
			return
		}
		defer nl.Close()
		for {
			msgs, err := nl.Receive(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				if errors.Is(err, nlconn.ErrOverrun) {
					if !yield(Event{}, ErrEventsLost) {
						return
					}
					continue
				}
				yield(Event{}, err)
				return
			}
			for _, m := range msgs {
				ev, ok, err := decodeEvent(m)
				if err != nil {
					if !yield(Event{}, err) {
						return
					}
					continue
				}
				if !ok || ev.Flow != nil && !filter.Matches(ev.Flow) {
					continue
				}
				if !yield(ev, nil) {
					return
				}
			}
		}
	}
}

// decodeEvent turns a multicast message into an Event; ok is false for
// messages that are not events (e.g. NLMSG_DONE).
func decodeEvent(m nlMessage) (Event, bool, error) {
	subsys, cmd := nfnl.Split(m.Header.Type)
	isNew := m.Header.Flags&(nlCreate|nlExcl) != 0
	switch {
	case subsys == unix.NFNL_SUBSYS_CTNETLINK && (cmd == ctMsgNew || cmd == ctMsgDelete):
		f, err := unmarshalFlowMessage(m, nil)
		if err != nil {
			return Event{}, false, err
		}
		t := EventUpdate
		switch {
		case cmd == ctMsgDelete:
			t = EventDestroy
		case isNew:
			t = EventNew
		}
		return Event{Type: t, Flow: &f}, true, nil
	case subsys == unix.NFNL_SUBSYS_CTNETLINK_EXP && (cmd == expMsgNew || cmd == expMsgDelete):
		e, err := unmarshalExpectationMessage(m)
		if err != nil {
			return Event{}, false, err
		}
		t := EventExpectationNew
		if cmd == expMsgDelete {
			t = EventExpectationDestroy
		}
		return Event{Type: t, Expectation: &e}, true, nil
	}
	return Event{}, false, nil
}
