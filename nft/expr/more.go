package expr

import ()

// lookupMore covers the expressions outside the first group of New.
func lookupMore(name string) Any {
	switch name {
	case "byteorder":
		return &Byteorder{}
	case "hash":
		return &Hash{}
	case "rt":
		return &Rt{}
	case "exthdr":
		return &Exthdr{}
	case "queue":
		return &Queue{}
	case "connlimit":
		return &Connlimit{}
	case "secmark":
		return &Secmark{}
	case "socket":
		return &Socket{}
	case "synproxy":
		return &Synproxy{}
	case "tproxy":
		return &Tproxy{}
	case "xfrm":
		return &Xfrm{}
	case "dup":
		return &Dup{}
	case "fwd":
		return &Fwd{}
	case "last":
		return &Last{}
	case "flow_offload":
		return &FlowOffload{}
	}
	return nil
}

// field is one attribute of a flat expression: how to write and read it.
// The simpler expressions below are lists of these, in the kernel's dump
// order, which keeps marshal and unmarshal from drifting apart.
type field struct {
	typ  uint16
	skip func() bool // attribute omitted when true (nil: always written)
	put  func(ae *enc, typ uint16)
	get  func(ad *dec)
}

func u32f(typ uint16, p *uint32, skip func() bool) field {
	return field{typ, skip, func(ae *enc, t uint16) { ae.Uint32(t, *p) },
		func(ad *dec) { *p = ad.Uint32() }}
}

func u16f(typ uint16, p *uint16, skip func() bool) field {
	return field{typ, skip, func(ae *enc, t uint16) { ae.Uint16(t, *p) },
		func(ad *dec) { *p = ad.Uint16() }}
}

func u8f(typ uint16, p *uint8, skip func() bool) field {
	return field{typ, skip, func(ae *enc, t uint16) { ae.Uint8(t, *p) },
		func(ad *dec) { *p = ad.Uint8() }}
}

func u64f(typ uint16, p *uint64, skip func() bool) field {
	return field{typ, skip, func(ae *enc, t uint16) { ae.Uint64(t, *p) },
		func(ad *dec) { *p = ad.Uint64() }}
}

func regf(typ uint16, p *Register, skip func() bool) field {
	return field{typ, skip, func(ae *enc, t uint16) { ae.Uint32(t, uint32(*p)) },
		func(ad *dec) { *p = Register(ad.Uint32()) }}
}

func strf(typ uint16, p *string, skip func() bool) field {
	return field{typ, skip, func(ae *enc, t uint16) { ae.String(t, *p) },
		func(ad *dec) { *p = ad.String() }}
}

func putFields(ae *enc, fs []field) error {
	for _, f := range fs {
		if f.skip == nil || !f.skip() {
			f.put(ae, f.typ)
		}
	}
	return nil
}

func getFields(ad *dec, fs []field) error {
next:
	for ad.Next() {
		for _, f := range fs {
			if f.typ == ad.Type() {
				f.get(ad)
				continue next
			}
		}
		return errUnknownAttr
	}
	return nil
}

func regZero(r *Register) func() bool { return func() bool { return *r == 0 } }
func u32Zero(v *uint32) func() bool   { return func() bool { return *v == 0 } }
