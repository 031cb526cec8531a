package iptables

import (
	"bytes"
	"context"
	"fmt"
	"iter"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nfnl"
	"github.com/nfkit/nfkit/internal/nlconn"
)

// saveChains lists the chains of table for Save straight off a bare dump
// socket, like saveWorker does the rules: the attributes iptables needs
// are read from the borrowed datagram and only each chain's name becomes
// a string, where nft.AllChains builds a whole nft.Chain per chain. At
// 22 000 chains that was most of what listing them cost besides the
// kernel's own walk, and garbage the collector then traced.
func saveChains(ctx context.Context, s *nlconn.Conn, f Family, table string) iter.Seq2[listedChain, error] {
	return func(yield func(listedChain, error) bool) {
		var e attr.Writer
		e.String(unix.NFTA_CHAIN_TABLE, table)
		req, _ := nftDumpRequest(nil, unix.NFT_MSG_GETCHAIN, f, e.Buf)
		for m, err := range s.DumpBorrowed(ctx, req) {
			if err != nil {
				yield(listedChain{}, fmt.Errorf("iptables: list chains of %s %s: %w", f, table, err))
				return
			}
			if _, cmd := nfnl.Split(m.Header.Type); cmd != unix.NFT_MSG_NEWCHAIN {
				continue
			}
			_, a, err := nfnl.Unmarshal(m.Data)
			if err != nil {
				yield(listedChain{}, fmt.Errorf("iptables: list chains of %s %s: %w", f, table, err))
				return
			}
			ch, ours, err := decodeListedChain(a, table)
			if err != nil {
				yield(listedChain{}, fmt.Errorf("iptables: list chains of %s %s: %w", f, table, err))
				return
			}
			if ours && !yield(ch, nil) {
				return
			}
		}
	}
}

// decodeListedChain reads a NEWCHAIN message's attributes; ours is false
// for a chain of another table (a kernel that ignores the table filter).
func decodeListedChain(b []byte, table string) (ch listedChain, ours bool, err error) {
	ours = true
	it := attr.NewIter(b)
	for it.Next() {
		switch it.Kind() {
		case unix.NFTA_CHAIN_TABLE:
			ours = string(bytes.TrimRight(it.Data(), "\x00")) == table
		case unix.NFTA_CHAIN_NAME:
			ch.name = string(bytes.TrimRight(it.Data(), "\x00"))
		case unix.NFTA_CHAIN_HANDLE:
			ch.handle = it.U64()
		case unix.NFTA_CHAIN_HOOK:
			ch.base = true
			h := it.Nested()
			for h.Next() {
				switch h.Kind() {
				case unix.NFTA_HOOK_HOOKNUM:
					ch.hook = h.U32()
				case unix.NFTA_HOOK_PRIORITY:
					ch.prio = int32(h.U32())
				}
			}
			it.Join(&h)
		case unix.NFTA_CHAIN_TYPE:
			ch.ctype = string(bytes.TrimRight(it.Data(), "\x00"))
		case unix.NFTA_CHAIN_POLICY:
			ch.drop = it.U32() == 0 // NF_DROP
		case unix.NFTA_CHAIN_COUNTERS:
			cn := it.Nested()
			for cn.Next() {
				switch cn.Kind() {
				case unix.NFTA_COUNTER_PACKETS:
					ch.packets = cn.U64()
				case unix.NFTA_COUNTER_BYTES:
					ch.bytes = cn.U64()
				}
			}
			it.Join(&cn)
		}
	}
	return ch, ours, it.Err()
}

// nftDumpRequest is an nf_tables GET request of cmd for family f with
// attrs, its payload built in buf (reused by the caller from one request
// to the next, and returned).
func nftDumpRequest(buf []byte, cmd uint8, f Family, attrs []byte) (netlink.Message, []byte) {
	buf = nfnl.Header{Family: uint8(f), Version: unix.NFNETLINK_V0}.Marshal(buf[:0])
	buf = append(buf, attrs...)
	return netlink.Message{
		Header: netlink.Header{Type: nfnl.Type(unix.NFNL_SUBSYS_NFTABLES, cmd), Flags: netlink.Request},
		Data:   buf,
	}, buf
}
