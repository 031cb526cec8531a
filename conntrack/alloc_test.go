package conntrack

import (
	"reflect"
	"testing"
)

// Flows decoded through one flowAlloc get parts of their own: equal to a
// plain decode, and never shared between flows.
func TestFlowAllocParts(t *testing.T) {
	var fa flowAlloc
	seen := map[*TCPInfo]bool{}
	for i := range 3 * slabSize {
		f := benchFlow(i)
		f.Reply = f.Origin.Reverse()
		f.TCP.WScaleOrig = uint8(i)
		f.Synproxy = &Synproxy{ISN: uint32(i)}
		f.CountersOrig = &Counters{Packets: uint64(i)}
		b, err := f.marshal(encodeFull)
		if err != nil {
			t.Fatal(err)
		}
		var plain, pooled Flow
		if err := plain.unmarshal(b); err != nil {
			t.Fatal(err)
		}
		if err := pooled.unmarshalWith(b, &fa); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(plain, pooled) || pooled.TCP.WScaleOrig != uint8(i) || pooled.Synproxy.ISN != uint32(i) ||
			pooled.CountersOrig.Packets != uint64(i) {
			t.Fatalf("flow %d: pooled %+v %+v, plain %+v %+v", i, pooled.TCP, pooled.Synproxy, plain.TCP, plain.Synproxy)
		}
		if seen[pooled.TCP] {
			t.Fatalf("flow %d shares its TCPInfo", i)
		}
		seen[pooled.TCP] = true
	}
	for p := range seen {
		p.State = TCPClose // writing through one flow's part touches no other
	}
	n := 0
	for p := range seen {
		if p.State == TCPClose {
			n++
		}
	}
	if n != 3*slabSize {
		t.Fatalf("%d distinct parts", n)
	}
}
