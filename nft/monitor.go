package nft

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nfnl"
	"github.com/nfkit/nfkit/internal/nlconn"
)

// EventKind says what an Event is about.
type EventKind uint8

// Event kinds.
const (
	EventNewTable EventKind = iota + 1
	EventDelTable
	EventNewChain
	EventDelChain
	EventNewRule
	EventDelRule
	EventNewSet
	EventDelSet
	EventNewElements
	EventDelElements
	EventNewGen
	EventOther
	EventNewObject    // a stateful object was added (Event.Object)
	EventDelObject    // ... deleted
	EventNewFlowtable // a flowtable was added or got devices (Event.Flowtable)
	EventDelFlowtable // ... deleted, or lost devices
)

var eventNames = map[EventKind]string{
	EventNewTable: "new table", EventDelTable: "delete table", EventNewChain: "new chain",
	EventDelChain: "delete chain", EventNewRule: "new rule", EventDelRule: "delete rule",
	EventNewSet: "new set", EventDelSet: "delete set", EventNewElements: "new elements",
	EventDelElements: "delete elements", EventNewGen: "new generation", EventOther: "other",
	EventNewObject: "new object", EventDelObject: "delete object",
	EventNewFlowtable: "new flowtable", EventDelFlowtable: "delete flowtable",
}

func (k EventKind) String() string {
	if s, ok := eventNames[k]; ok {
		return s
	}
	return fmt.Sprintf("event(%d)", uint8(k))
}

// Event is one ruleset change, as `nft monitor` prints it. Exactly one of
// the object fields is set, per Kind. Elements carry raw keys (the event
// does not say the set's types): decode them with the Set from ListSets.
type Event struct {
	Kind     EventKind
	Family   Family
	Table    *Table
	Chain    *Chain
	Rule     *Rule
	Set      *Set
	SetName  string // for element events
	Elements []Element
	Gen      *Generation
	// Object and Flowtable are set for object and flowtable events.
	Object    *Object
	Flowtable *Flowtable
	// Cmd is the raw nf_tables message type (for EventOther, e.g.
	// objects and flowtables).
	Cmd uint8
}

const (
	groupNFTables = 7 // NFNLGRP_NFTABLES
	groupTrace    = 9 // NFNLGRP_NFTRACE
)

// subscribe opens an event socket in c's namespace joined to group.
func (c *Conn) subscribe(group int) (*nlconn.Conn, error) {
	return c.dialSibling(&nlconn.Config{Groups: 1 << (group - 1), ReadBuffer: 8 << 20})
}

// Monitor streams ruleset change events until ctx is cancelled (like `nft
// monitor`). It uses its own socket. Lost events (receive buffer overrun)
// are reported as an error wrapping nlconn's overrun error and the stream
// goes on: resynchronise by listing.
func (c *Conn) Monitor(ctx context.Context) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		nl, err := c.subscribe(groupNFTables)
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
				if !yield(Event{}, fmt.Errorf("nft: monitor: %w", err)) || !errors.Is(err, nlconn.ErrOverrun) {
					return
				}
				continue
			}
			for _, m := range msgs {
				sub, cmd := nfnl.Split(m.Header.Type)
				if sub != subsys {
					continue
				}
				h, a, err := nfnl.Unmarshal(m.Data)
				if err != nil {
					continue
				}
				ev, err := decodeEvent(cmd, Family(h.Family), a)
				if !yield(ev, err) {
					return
				}
			}
		}
	}
}

func decodeEvent(cmd uint8, f Family, a []byte) (Event, error) {
	ev := Event{Family: f, Cmd: cmd}
	var err error
	switch cmd {
	case msgNewTable, msgDelTable:
		ev.Kind = map[uint8]EventKind{msgNewTable: EventNewTable, msgDelTable: EventDelTable}[cmd]
		ev.Table, err = decodeTable(f, a)
	case msgNewChain, msgDelChain:
		ev.Kind = map[uint8]EventKind{msgNewChain: EventNewChain, msgDelChain: EventDelChain}[cmd]
		ev.Chain, err = decodeChain(f, a)
	case msgNewRule, msgDelRule:
		ev.Kind = map[uint8]EventKind{msgNewRule: EventNewRule, msgDelRule: EventDelRule}[cmd]
		ev.Rule = &Rule{}
		err = ev.Rule.unmarshal(f, a, false)
	case msgNewSet, msgDelSet:
		ev.Kind = map[uint8]EventKind{msgNewSet: EventNewSet, msgDelSet: EventDelSet}[cmd]
		ev.Set, err = decodeSet(f, a)
	case msgNewSetElem, msgDelSetElem:
		ev.Kind = map[uint8]EventKind{msgNewSetElem: EventNewElements, msgDelSetElem: EventDelElements}[cmd]
		s := &Set{Family: f}
		err = attr.Walk(a, func(typ uint16, d []byte) error {
			switch typ & attr.TypeMask {
			case attrElemListTable:
				s.Table = getStr(d)
			case attrElemListSet:
				s.Name = getStr(d)
				ev.SetName = s.Name
			case attrElemListElements:
				return attr.Walk(d, func(_ uint16, d []byte) error {
					el, err := s.unmarshalElem(d)
					ev.Elements = append(ev.Elements, el)
					return err
				})
			}
			return nil
		})
	case msgNewGen:
		ev.Kind = EventNewGen
		var g Generation
		g, err = decodeGen(f, a)
		ev.Gen = &g
	case msgNewObj, msgDelObj:
		ev.Kind = map[uint8]EventKind{msgNewObj: EventNewObject, msgDelObj: EventDelObject}[cmd]
		ev.Object, err = decodeObject(f, a)
	case msgNewFlowtable, msgDelFlowtable:
		ev.Kind = map[uint8]EventKind{msgNewFlowtable: EventNewFlowtable, msgDelFlowtable: EventDelFlowtable}[cmd]
		ev.Flowtable, err = decodeFlowtable(f, a)
	default:
		ev.Kind = EventOther
	}
	if err != nil {
		err = fmt.Errorf("nft: monitor: decode %v: %w", ev.Kind, err)
	}
	return ev, err
}

// TraceType says where in the ruleset a traced packet is.
type TraceType uint32

// Trace types (enum nft_trace_types).
const (
	TracePolicy TraceType = 1 // NFT_TRACETYPE_POLICY: the base chain policy applied
	TraceReturn TraceType = 2 // NFT_TRACETYPE_RETURN: end of a regular chain
	TraceRule   TraceType = 3 // NFT_TRACETYPE_RULE: a rule matched
)

func (t TraceType) String() string {
	switch t {
	case TraceRule:
		return "rule"
	case TraceReturn:
		return "return"
	case TracePolicy:
		return "policy"
	}
	return fmt.Sprintf("trace(%d)", uint32(t))
}

// TraceEvent is one `nft monitor trace` line: a packet marked with `meta
// nftrace set 1` passing a rule, a chain end or a policy.
type TraceEvent struct {
	ID         uint32 // same for every event of one packet
	Family     Family
	Type       TraceType
	Table      string
	Chain      string
	RuleHandle uint64
	Verdict    *Verdict
	Policy     *Verdict
	IIF, OIF   uint32 // interface indexes
	Mark       uint32
	NFProto    uint8
	// Headers as the kernel copied them.
	LLHeader, NetworkHeader, TransportHeader []byte
}

// Interface names are not in trace events; resolve indexes with
// net.InterfaceByIndex in the namespace if needed.
var _ = net.InterfaceByIndex

// enum nft_trace_attributes
const (
	attrTraceTable     = 1
	attrTraceChain     = 2
	attrTraceRule      = 3
	attrTraceType      = 4
	attrTraceVerdict   = 5
	attrTraceID        = 6
	attrTraceLLHeader  = 7
	attrTraceNetHeader = 8
	attrTraceTHeader   = 9
	attrTraceIIF       = 10
	attrTraceOIF       = 12
	attrTraceMark      = 14
	attrTraceNFProto   = 15
	attrTracePolicy    = 16
)

// Trace streams trace events until ctx is cancelled (like `nft monitor
// trace`). Only packets a rule marked with `meta nftrace set 1` are traced.
func (c *Conn) Trace(ctx context.Context) iter.Seq2[TraceEvent, error] {
	return func(yield func(TraceEvent, error) bool) {
		nl, err := c.subscribe(groupTrace)
		if err != nil {
			yield(TraceEvent{}, err)
			return
		}
		defer nl.Close()
		for {
			msgs, err := nl.Receive(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				if !yield(TraceEvent{}, fmt.Errorf("nft: trace: %w", err)) || !errors.Is(err, nlconn.ErrOverrun) {
					return
				}
				continue
			}
			for _, m := range msgs {
				sub, cmd := nfnl.Split(m.Header.Type)
				if sub != subsys || cmd != msgTrace {
					continue
				}
				h, a, err := nfnl.Unmarshal(m.Data)
				if err != nil {
					continue
				}
				ev, err := decodeTrace(Family(h.Family), a)
				if !yield(ev, err) {
					return
				}
			}
		}
	}
}

func decodeTrace(f Family, a []byte) (TraceEvent, error) {
	ev := TraceEvent{Family: f}
	err := attr.Walk(a, func(typ uint16, d []byte) error {
		var err error
		var v uint32
		switch typ & attr.TypeMask {
		case attrTraceTable:
			ev.Table = getStr(d)
		case attrTraceChain:
			ev.Chain = getStr(d)
		case attrTraceRule:
			ev.RuleHandle, err = getU64(d)
		case attrTraceType:
			v, err = getU32(d)
			ev.Type = TraceType(v)
		case attrTraceVerdict:
			ev.Verdict = &Verdict{}
			err = ev.Verdict.unmarshal(d)
		case attrTracePolicy:
			v, err = getU32(d)
			ev.Policy = &Verdict{Code: VerdictCode(int32(v))}
		case attrTraceID:
			ev.ID, err = getU32(d)
		case attrTraceIIF:
			ev.IIF, err = getU32(d)
		case attrTraceOIF:
			ev.OIF, err = getU32(d)
		case attrTraceMark:
			ev.Mark, err = getU32(d)
		case attrTraceNFProto:
			v, err = getU32(d)
			ev.NFProto = uint8(v)
		case attrTraceLLHeader:
			ev.LLHeader = clone(d)
		case attrTraceNetHeader:
			ev.NetworkHeader = clone(d)
		case attrTraceTHeader:
			ev.TransportHeader = clone(d)
		}
		return err
	})
	return ev, err
}
