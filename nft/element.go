package nft

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/nfkit/nfkit/internal/attr"
)

// enum nft_set_elem_list_attributes / nft_set_elem_attributes
const (
	attrElemListTable    = 1
	attrElemListSet      = 2
	attrElemListElements = 3
	attrElemListSetID    = 4

	attrElemKey         = 1
	attrElemData        = 2
	attrElemFlags       = 3
	attrElemTimeout     = 4
	attrElemExpiration  = 5
	attrElemUserdata    = 6
	attrElemExpr        = 7
	attrElemPad         = 8
	attrElemObjref      = 9
	attrElemKeyEnd      = 10
	attrElemExpressions = 11

	elemIntervalEnd = 1 // NFT_SET_ELEM_INTERVAL_END
	elemCatchall    = 2 // NFT_SET_ELEM_CATCHALL

	udataElemComment = 0 // NFTNL_UDATA_SET_ELEM_COMMENT
)

// Element is a set or map element (like `nft add element inet t s {
// 192.0.2.1 timeout 30s comment "x" }`). Values are Go values converted by
// the set's types (see DataType); byte order and padding are the
// library's job.
type Element struct {
	// Key is a value of the set's key type; a netip.Prefix or Range in an
	// interval set; a Concat for concatenated keys, whose fields may be
	// prefixes or ranges in an interval set.
	Key any
	// KeyEnd, when set, makes the element the inclusive range Key-KeyEnd.
	KeyEnd any
	// Value is the map value (a Verdict in verdict maps).
	Value any

	Timeout time.Duration // 0: the set's default
	// Expires is the time left before the element expires: read back,
	// and on add the initial time left (at most the timeout), like nft's
	// `timeout 1h expires 30m`.
	Expires time.Duration
	Comment string
	// Counter is the element's counter (sets with Counter): read back,
	// and on add the counter's initial values (nft 1.0.6 cannot write
	// them; the kernel takes them since 5.12).
	Counter *Counters
	// IntervalEnd marks a kernel end-of-interval element (AllElements of
	// interval sets yields them; ListElements folds them into ranges).
	IntervalEnd bool
	// Catchall is the `*` element of a map (Linux 5.13).
	Catchall bool
	// UserData is the raw element user data; Comment is merged into it.
	UserData []byte

	keyRaw, keyEndRaw, dataRaw []byte
	exprs                      []byte
	extra                      []rawAttr
}

// wireElem is an element ready to encode.
type wireElem struct {
	key, keyEnd []byte
	flags       uint32
	src         *Element
	add         bool // part of an add/create: state (counters, expiry) is sent
}

// keyBytes returns the start and (for ranges) inclusive end bytes of e's
// key for set s.
func (s *Set) keyBytes(e *Element) (start, end []byte, err error) {
	if len(s.KeyType) > 1 {
		c, ok := e.Key.(Concat)
		if !ok || len(c) != len(s.KeyType) {
			return nil, nil, fmt.Errorf("%w: %v: key %v does not fit concatenated key %s", ErrInvalid, s, e.Key, s.typeString())
		}
		var cEnd Concat
		if e.KeyEnd != nil {
			if cEnd, ok = e.KeyEnd.(Concat); !ok || len(cEnd) != len(c) {
				return nil, nil, fmt.Errorf("%w: %v: key end %v does not fit %s", ErrInvalid, s, e.KeyEnd, s.typeString())
			}
		}
		ranged := false
		for i := range s.KeyType {
			t := s.keyFieldType(i)
			var endV any
			if cEnd != nil {
				endV = cEnd[i]
			}
			a, b, err := valueRange(t, c[i], endV)
			if err != nil {
				return nil, nil, fmt.Errorf("%v: field %d: %w", s, i, err)
			}
			ranged = ranged || b != nil
			if b == nil {
				b = a
			}
			start, end = appendPadded(start, a), appendPadded(end, b)
		}
		if !ranged {
			end = nil
		}
		return start, end, nil
	}
	if len(s.KeyType) == 0 {
		return nil, nil, fmt.Errorf("%w: %v: key type unknown", ErrInvalid, s)
	}
	start, end, err = valueRange(s.singleKeyType(), e.Key, e.KeyEnd)
	if err != nil {
		return nil, nil, fmt.Errorf("%v: key: %w", s, err)
	}
	return start, end, nil
}

// singleKeyType is the type a one-field key is encoded with (see
// keyFieldType).
func (s *Set) singleKeyType() DataType { return s.keyFieldType(0) }

// keyFieldType is the type field i of the key is encoded with. Interval
// sets keep host-endian integers (mark, ct state, integer...) big-endian,
// as nft 1.0.6 sends them (measured: `add element ip t m { 0x10-0x20 }`
// in a `type mark; flags interval` set sends 00 00 00 10 and 00 00 00 21,
// and `192.0.2.0/24 . 0x10-0x20` in a `type ipv4_addr . mark; flags
// interval` set sends the mark fields as 00 00 00 10 and 00 00 00 20):
// the kernel orders interval elements by memcmp, which only works on
// big-endian bytes. Non-interval sets keep them host-endian.
func (s *Set) keyFieldType(i int) DataType {
	t := s.KeyType[i]
	if s.Flags&SetInterval != 0 && t.ByteOrder == HostEndian && t.ID != typeIfname && t.Len > 1 {
		t.ByteOrder = BigEndian
	}
	return t
}

func appendPadded(b, v []byte) []byte {
	b = append(b, v...)
	for i := len(v); i%4 != 0; i++ {
		b = append(b, 0)
	}
	return b
}

// valueRange encodes v (a value, netip.Prefix or Range) and an optional
// explicit end; end is nil for a single value.
func valueRange(t DataType, v, endV any) (start, end []byte, err error) {
	switch x := v.(type) {
	case netip.Prefix:
		if !x.IsValid() || endV != nil {
			return nil, nil, fmt.Errorf("%w: prefix %v", ErrInvalid, x)
		}
		x = x.Masked()
		if start, err = encodeValue(t, x.Addr()); err != nil {
			return nil, nil, err
		}
		end = bytes.Clone(start)
		for i := x.Bits(); i < len(end)*8; i++ {
			end[i/8] |= 0x80 >> (i % 8)
		}
		if bytes.Equal(start, end) {
			end = nil
		}
		return start, end, nil
	case Range:
		if endV != nil {
			return nil, nil, fmt.Errorf("%w: range %v with a separate end", ErrInvalid, x)
		}
		v, endV = x.From, x.To
	}
	if start, err = encodeValue(t, v); err != nil {
		return nil, nil, err
	}
	if endV == nil {
		return start, nil, nil
	}
	if end, err = encodeValue(t, endV); err != nil {
		return nil, nil, err
	}
	if t.ByteOrder != BigEndian && len(start) > 1 {
		return nil, nil, fmt.Errorf("%w: ranges of host-endian type %v are not supported", ErrInvalid, t)
	}
	switch bytes.Compare(start, end) {
	case 1:
		return nil, nil, fmt.Errorf("%w: range %v-%v is reversed", ErrInvalid, v, endV)
	case 0:
		end = nil
	}
	return start, end, nil
}

func (s *Set) typeString() string {
	var b bytes.Buffer
	for i, t := range s.KeyType {
		if i > 0 {
			b.WriteString(" . ")
		}
		b.WriteString(t.String())
	}
	return b.String()
}

// increment adds one to a big-endian byte string; ok is false on overflow.
func increment(b []byte) ([]byte, bool) {
	out := bytes.Clone(b)
	for i := len(out) - 1; i >= 0; i-- {
		out[i]++
		if out[i] != 0 {
			return out, true
		}
	}
	return out, false
}

func decrement(b []byte) []byte {
	out := bytes.Clone(b)
	for i := len(out) - 1; i >= 0; i-- {
		out[i]--
		if out[i] != 0xff {
			break
		}
	}
	return out
}

// wireElements turns elements into what the kernel stores. Plain interval
// sets (one key type) store each range as a start element and an
// end-of-interval element holding end+1, like nft; overlapping or adjacent
// ranges are merged when the set has AutoMerge and overlaps are an error
// otherwise. Concatenated interval sets carry the end in KEY_END.
func (s *Set) wireElements(elems []Element, adding bool) ([]wireElem, error) {
	interval := s.Flags&SetInterval != 0
	concat := len(s.KeyType) > 1
	out := make([]wireElem, 0, len(elems))
	type span struct {
		a, b []byte
		src  *Element
	}
	var spans []span
	for i := range elems {
		e := &elems[i]
		if e.Catchall {
			out = append(out, wireElem{flags: elemCatchall, src: e})
			continue
		}
		a, b, err := s.keyBytes(e)
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		if err := s.checkValue(e); err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		if b != nil && !interval {
			return nil, fmt.Errorf("%w: element %d: %v is a range but %v has no interval flag", ErrInvalid, i, e.Key, s)
		}
		switch {
		case !interval:
			out = append(out, wireElem{key: a, src: e})
		case concat:
			if b == nil {
				b = a
			}
			out = append(out, wireElem{key: a, keyEnd: b, src: e})
		default:
			if b == nil {
				b = a
			}
			spans = append(spans, span{a, b, e})
		}
	}
	if len(spans) == 0 {
		return markAdd(out, adding), nil
	}
	sortSpans(spans, func(x span) []byte { return x.a })
	merged := spans[:1]
	for _, sp := range spans[1:] {
		last := &merged[len(merged)-1]
		next, ok := increment(last.b)
		overlap := bytes.Compare(sp.a, last.b) <= 0
		adjacent := ok && bytes.Equal(sp.a, next)
		switch {
		case overlap && !s.AutoMerge && adding:
			return nil, fmt.Errorf("%w: %v: interval %v overlaps %v (set AutoMerge to merge them, as nft's auto-merge does)",
				ErrInvalid, s, describe(sp.src), describe(last.src))
		case (overlap || adjacent) && s.AutoMerge:
			if bytes.Compare(sp.b, last.b) > 0 {
				last.b = sp.b
			}
		default:
			merged = append(merged, sp)
		}
	}
	for _, sp := range merged {
		out = append(out, wireElem{key: sp.a, src: sp.src})
		if end, ok := increment(sp.b); ok {
			out = append(out, wireElem{key: end, flags: elemIntervalEnd, src: sp.src})
		}
	}
	return markAdd(out, adding), nil
}

func markAdd(w []wireElem, adding bool) []wireElem {
	for i := range w {
		w[i].add = adding
	}
	return w
}

func describe(e *Element) string {
	if e.KeyEnd != nil {
		return fmt.Sprintf("%v-%v", e.Key, e.KeyEnd)
	}
	return fmt.Sprint(e.Key)
}

func sortSpans[T any](x []T, key func(T) []byte) {
	slices.SortFunc(x, func(a, b T) int { return bytes.Compare(key(a), key(b)) })
}

func (s *Set) checkValue(e *Element) error {
	if !s.IsMap() {
		if e.Value != nil {
			return fmt.Errorf("%w: %v is not a map but element %v has a value", ErrInvalid, s, e.Key)
		}
		return nil
	}
	if e.Value == nil {
		return fmt.Errorf("%w: map %v: element %v has no value", ErrInvalid, s, e.Key)
	}
	if s.DataType.ID == typeVerdict {
		v, ok := e.Value.(Verdict)
		if !ok {
			return fmt.Errorf("%w: verdict map %v: value %v (%T) is not a Verdict", ErrInvalid, s, e.Value, e.Value)
		}
		return v.validate()
	}
	if s.DataType.ID == 0 { // object maps: no typed value
		return nil
	}
	_, err := encodeValue(s.DataType, e.Value)
	if err != nil {
		return fmt.Errorf("map %v: %w", s, err)
	}
	return nil
}

// marshalElem writes one NFTA_LIST_ELEM.
func (s *Set) marshalElem(e *attr.Writer, w wireElem) error {
	n := e.Begin(attrListElem)
	if w.key != nil {
		k := e.Begin(attrElemKey)
		e.Bytes(attrDataValue, w.key)
		e.End(k)
	}
	if w.keyEnd != nil {
		k := e.Begin(attrElemKeyEnd)
		e.Bytes(attrDataValue, w.keyEnd)
		e.End(k)
	}
	if w.flags != 0 {
		e.U32(attrElemFlags, w.flags)
	}
	src := w.src
	if src != nil && w.flags&elemIntervalEnd == 0 {
		if src.Timeout != 0 {
			if src.Timeout < 0 || src.Timeout%time.Millisecond != 0 {
				return fmt.Errorf("%w: element %v: timeout %v", ErrInvalid, src.Key, src.Timeout)
			}
			e.U64(attrElemTimeout, uint64(src.Timeout/time.Millisecond))
		}
		if src.Expires != 0 && w.add {
			// Time left (like nft's `expires 30m`): restoring a listed
			// element keeps its remaining lifetime.
			timeout := src.Timeout
			if timeout == 0 {
				timeout = s.Timeout
			}
			if src.Expires < 0 || src.Expires%time.Millisecond != 0 || timeout == 0 || src.Expires > timeout {
				return fmt.Errorf("%w: element %v: expires %v (whole milliseconds, at most the timeout %v)", ErrInvalid, src.Key, src.Expires, timeout)
			}
			e.U64(attrElemExpiration, uint64(src.Expires/time.Millisecond))
		}
		if s.IsMap() && src.Value != nil {
			d := e.Begin(attrElemData)
			if v, ok := src.Value.(Verdict); ok {
				v.marshal(e)
			} else {
				b, err := encodeValue(s.DataType, src.Value)
				if err != nil {
					return err
				}
				e.Bytes(attrDataValue, b)
			}
			e.End(d)
		}
		ud, err := udataWithComment(src.UserData, udataElemComment, src.Comment)
		if err != nil {
			return err
		}
		if ud != nil {
			e.Bytes(attrElemUserdata, ud)
		}
		if src.Counter != nil && w.add {
			// Initial counter values, in the element's expression list
			// (Linux 5.12+; the set must have a counter, the kernel
			// refuses expressions the set does not declare).
			if !s.Counter {
				return fmt.Errorf("%w: element %v: counter values for %v, which has no counter", ErrInvalid, src.Key, s)
			}
			x := e.Begin(attrElemExpressions)
			l := e.Begin(attrListElem)
			e.String(1, "counter")        // NFTA_EXPR_NAME
			d := e.Begin(2)               // NFTA_EXPR_DATA
			e.U64(1, src.Counter.Bytes)   // NFTA_COUNTER_BYTES
			e.U64(2, src.Counter.Packets) // NFTA_COUNTER_PACKETS
			e.End(d)
			e.End(l)
			e.End(x)
		}
	}
	e.End(n)
	return nil
}

// unmarshalElem decodes one element; typed values need the set's types.
func (s *Set) unmarshalElem(b []byte) (Element, error) {
	var el Element
	err := attr.Walk(b, func(typ uint16, d []byte) error {
		var err error
		switch typ & attr.TypeMask {
		case attrElemKey:
			el.keyRaw, err = dataValue(d)
		case attrElemKeyEnd:
			el.keyEndRaw, err = dataValue(d)
		case attrElemData:
			err = attr.Walk(d, func(t uint16, d []byte) error {
				switch t & attr.TypeMask {
				case attrDataValue:
					el.dataRaw = clone(d)
				case attrDataVerdict:
					var v Verdict
					if err := v.unmarshal(d); err != nil {
						return err
					}
					el.Value = v
				}
				return nil
			})
		case attrElemFlags:
			var f uint32
			f, err = getU32(d)
			el.IntervalEnd = f&elemIntervalEnd != 0
			el.Catchall = f&elemCatchall != 0
		case attrElemTimeout:
			var v uint64
			v, err = getU64(d)
			el.Timeout = time.Duration(v) * time.Millisecond
		case attrElemExpiration:
			var v uint64
			v, err = getU64(d)
			el.Expires = time.Duration(v) * time.Millisecond
		case attrElemUserdata:
			el.UserData = clone(d)
			el.Comment = udataComment(d, udataElemComment)
		case attrElemExpr:
			el.exprs = clone(d)
			el.Counter = counterExpr(d)
		case attrElemExpressions:
			el.exprs = clone(d)
			_ = attr.Walk(d, func(_ uint16, d []byte) error {
				if c := counterExpr(d); c != nil {
					el.Counter = c
				}
				return nil
			})
		case attrElemPad:
		default:
			el.extra = append(el.extra, rawAttr{typ, clone(d)})
		}
		return err
	})
	if err != nil {
		return el, err
	}
	el.Key = s.decodeKey(el.keyRaw)
	if el.keyEndRaw != nil {
		el.KeyEnd = s.decodeKey(el.keyEndRaw)
	}
	if el.dataRaw != nil {
		el.Value = decodeValue(s.DataType, el.dataRaw)
	}
	return el, nil
}

func dataValue(d []byte) ([]byte, error) {
	var v []byte
	err := attr.Walk(d, func(t uint16, d []byte) error {
		if t&attr.TypeMask == attrDataValue {
			v = clone(d)
		}
		return nil
	})
	return v, err
}

// counterExpr reads a counter expression (NFTA_EXPR_NAME "counter").
func counterExpr(d []byte) *Counters {
	var name string
	var c Counters
	_ = attr.Walk(d, func(t uint16, d []byte) error {
		switch t & attr.TypeMask {
		case 1: // NFTA_EXPR_NAME
			name = getStr(d)
		case 2: // NFTA_EXPR_DATA
			return attr.Walk(d, func(t uint16, d []byte) error {
				switch t & attr.TypeMask {
				case attrCounterBytes:
					c.Bytes, _ = getU64(d)
				case attrCounterPackets:
					c.Packets, _ = getU64(d)
				}
				return nil
			})
		}
		return nil
	})
	if name != "counter" {
		return nil
	}
	return &c
}

func (s *Set) decodeKey(b []byte) any {
	if b == nil {
		return nil
	}
	if len(s.KeyType) <= 1 {
		if len(s.KeyType) == 0 {
			return clone(b)
		}
		return decodeValue(s.singleKeyType(), b)
	}
	c := make(Concat, 0, len(s.KeyType))
	for i := range s.KeyType {
		t := s.keyFieldType(i)
		l := int((t.Len + 3) &^ 3)
		if t.Len == 0 || l > len(b) {
			return clone(b)
		}
		c = append(c, decodeValue(t, b[:t.Len]))
		b = b[l:]
	}
	return c
}
