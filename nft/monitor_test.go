package nft

import (
	"context"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/nstest"
)

func TestMonitor(t *testing.T) {
	nstest.RequireTool(t, "nft")
	c, ns := testConn(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	events := make(chan Event, 64)
	ready := make(chan struct{})
	go func() {
		defer close(events)
		first := true
		for ev, err := range c.Monitor(ctx) {
			if first {
				first = false
			}
			if err != nil {
				t.Error(err)
				return
			}
			events <- ev
		}
	}()
	close(ready)
	time.Sleep(100 * time.Millisecond) // let the subscription bind
	ns.Run(t, "nft", "add table ip mon; add chain ip mon c; add rule ip mon c counter comment \"hi\"; add set ip mon s { type inet_service; }; add element ip mon s { 22 }")
	want := []EventKind{EventNewTable, EventNewChain, EventNewRule, EventNewSet, EventNewElements, EventNewGen}
	var got []Event
	for len(got) < len(want) {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("monitor ended after %v", got)
			}
			got = append(got, ev)
		case <-ctx.Done():
			t.Fatalf("timeout; got %v", got)
		}
	}
	for i, k := range want {
		if got[i].Kind != k {
			t.Fatalf("event %d is %v, want %v (%+v)", i, got[i].Kind, k, got)
		}
	}
	if got[0].Table.Name != "mon" || got[1].Chain.Name != "c" || got[2].Rule.Comment != "hi" ||
		got[3].Set.Name != "s" || got[4].SetName != "s" || len(got[4].Elements) != 1 || got[5].Gen.ID == 0 {
		t.Errorf("events: %+v", got)
	}
}

func TestTrace(t *testing.T) {
	nstest.RequireTool(t, "nft")
	c, ns := testConn(t)
	ns.Run(t, "nft", "add table ip tr; add chain ip tr out { type filter hook output priority 0; }; add rule ip tr out ip daddr 127.0.0.2 meta nftrace set 1; add rule ip tr out ip daddr 127.0.0.2 accept")
	rules, err := c.ListRules(testCtx(t), RuleFilter{Family: FamilyIPv4, Table: "tr"})
	if err != nil || len(rules) != 2 {
		t.Fatal(rules, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	evs := make(chan TraceEvent, 16)
	go func() {
		defer close(evs)
		for ev, err := range c.Trace(ctx) {
			if err != nil {
				t.Error(err)
				return
			}
			evs <- ev
		}
	}()
	time.Sleep(100 * time.Millisecond)
	// one UDP datagram on the namespace's loopback
	if err := ns.Do(func() error {
		conn, err := net.Dial("udp4", "127.0.0.2:9")
		if err != nil {
			return err
		}
		defer conn.Close()
		_, err = conn.Write([]byte("trace me"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case ev := <-evs:
			if ev.Type == TraceRule && ev.RuleHandle == rules[1].Handle {
				if ev.Table != "tr" || ev.Chain != "out" || ev.Verdict == nil || ev.Verdict.Code != VerdictAccept || ev.ID == 0 {
					t.Errorf("trace event %+v", ev)
				}
				return
			}
		case <-ctx.Done():
			t.Fatal("no trace event for the accepting rule")
		}
	}
}

// TestMonitorObjects: object adds and deletes come as typed events.
func TestMonitorObjects(t *testing.T) {
	nstest.RequireTool(t, "nft")
	c, ns := testConn(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	events := make(chan Event, 64)
	go func() {
		defer close(events)
		for ev, err := range c.Monitor(ctx) {
			if err != nil {
				t.Error(err)
				return
			}
			events <- ev
		}
	}()
	time.Sleep(100 * time.Millisecond) // let the subscription bind
	ns.Run(t, "nft", "add table ip mon; add limit ip mon l { rate 5/minute; }; add quota ip mon q { 100 bytes; }")
	ns.Run(t, "nft", "delete limit ip mon l")
	var objs []Event
	for len(objs) < 3 {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("monitor ended after %v", objs)
			}
			if ev.Kind == EventNewObject || ev.Kind == EventDelObject {
				objs = append(objs, ev)
			}
			if ev.Kind == EventOther {
				t.Errorf("untyped event, cmd %d", ev.Cmd)
			}
		case <-ctx.Done():
			t.Fatalf("timeout; got %v", objs)
		}
	}
	if objs[0].Kind != EventNewObject || objs[0].Object.Limit == nil || objs[0].Object.Limit.Unit != time.Minute ||
		objs[1].Kind != EventNewObject || objs[1].Object.Quota == nil || objs[1].Object.Quota.Bytes != 100 ||
		objs[2].Kind != EventDelObject || objs[2].Object.Name != "l" {
		t.Errorf("object events: %+v %+v %+v", objs[0].Object, objs[1].Object, objs[2].Object)
	}
}

// TestMonitorStaysInNamespace: Monitor's socket, opened after Dial,
// subscribes in the namespace of the Conn's socket even when the
// Config.NetNS descriptor was closed since and its number now names the
// host's namespace.
func TestMonitorStaysInNamespace(t *testing.T) {
	nstest.RequireTool(t, "nft")
	ns := nstest.New(t)
	dup, err := unix.Dup(ns.FD())
	if err != nil {
		t.Fatal(err)
	}
	c, err := Dial(&Config{NetNS: dup})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	unix.Close(dup)
	host, err := unix.Open("/proc/self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(host)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	events := make(chan Event, 16)
	go func() {
		defer close(events)
		for ev, err := range c.Monitor(ctx) {
			if err != nil {
				return
			}
			events <- ev
		}
	}()
	time.Sleep(100 * time.Millisecond) // let the subscription bind
	ns.Run(t, "nft", "add table ip nsmon")
	select {
	case ev, ok := <-events:
		if !ok || ev.Kind != EventNewTable || ev.Table.Name != "nsmon" {
			t.Fatalf("first event %+v (open %v), want the new table nsmon", ev, ok)
		}
	case <-ctx.Done():
		t.Fatal("no event from the namespace: the monitor subscribed elsewhere")
	}
}
