package iptables

import (
	"bytes"
	"context"
	"encoding/binary"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/nlconn"
)

// BenchmarkKubeSaveFloor shows what bounds Save: the kernel's work for the
// rule dumps themselves. It times, side by side in one run on the kube
// ruleset of BenchmarkKubeSave:
//
//   - raw-1: one GETRULE dump per chain (what iptables-nft-save and Save
//     both do; a dump of a whole table is quadratic in the kernel) with
//     bare sendto/recvmmsg on one socket, messages counted, nothing
//     decoded or printed: the floor a single-threaded program can reach;
//   - raw-2: the same dumps split over two sockets on two threads;
//   - nlconn-2: the same over two nlconn sockets (DumpBorrowed), the
//     messages counted: nfkit's socket layer without decoding;
//   - nfkit: Save;
//   - cli: iptables-nft-save (through nsenter).
//
// cli/raw-2 is the speedup a program doing no work at all besides the
// dumps would get on this machine with two threads: what is left for
// decoding and printing under a target of "2x faster than the CLI".
//
//	go test -run '^$' -bench KubeSaveFloor -benchtime 3x ./iptables
func BenchmarkKubeSaveFloor(b *testing.B) {
	ns, c := kubeSaveSetup(b)
	defer ns.Close()
	defer c.Close()
	ctx := context.Background()
	var reqs [][]byte
	for _, table := range []string{"filter", "nat"} {
		tc, err := c.loadChains(ctx, IPv4, table)
		if err != nil {
			b.Fatal(err)
		}
		for _, ch := range tc.chains {
			reqs = append(reqs, rawRuleDump(table, ch.Name, uint32(len(reqs)+1)))
		}
	}
	socks := make([]int, 2)
	for i := range socks {
		if err := ns.Do(func() error {
			fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
			socks[i] = fd
			return err
		}); err != nil {
			b.Fatal(err)
		}
		defer unix.Close(socks[i])
	}
	var nls [2]*nlconn.Conn
	for i := range nls {
		var err error
		if nls[i], err = nlconn.Dial(unix.NETLINK_NETFILTER, &nlconn.Config{NetNS: ns.FD()}); err != nil {
			b.Fatal(err)
		}
		defer nls[i].Close()
	}
	nlDump := func(s *nlconn.Conn, req []byte) (int, error) {
		m := netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(binary.NativeEndian.Uint16(req[4:]))}, Data: req[unix.NLMSG_HDRLEN:]}
		n := 0
		for _, err := range s.DumpBorrowed(ctx, m) {
			if err != nil {
				return n, err
			}
			n++
		}
		return n, nil
	}
	wantRules := -1
	parallel := func(nsock int, dump func(s, i int) (int, error)) time.Duration {
		t0 := time.Now()
		var wg sync.WaitGroup
		counts := make([]int, nsock)
		for s := 0; s < nsock; s++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := s; i < len(reqs); i += nsock {
					n, err := dump(s, i)
					if err != nil {
						b.Error(err)
						return
					}
					counts[s] += n
				}
			}()
		}
		wg.Wait()
		d := time.Since(t0)
		total := 0
		for _, n := range counts {
			total += n
		}
		if wantRules >= 0 && total != wantRules {
			b.Fatalf("dumps over %d sockets saw %d rules, Save printed %d", nsock, total, wantRules)
		}
		return d
	}
	raw := func(s, i int) (int, error) { return rawDump(socks[s], reqs[i]) }
	viaNlconn := func(s, i int) (int, error) { return nlDump(nls[s], reqs[i]) }
	var raw1, raw2, nl2, tk, tc time.Duration
	var buf bytes.Buffer
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf.Reset()
		t0 := time.Now()
		if err := c.Save(ctx, &buf, IPv4, "", nil); err != nil {
			b.Fatal(err)
		}
		tk += time.Since(t0)
		wantRules = bytes.Count(buf.Bytes(), []byte("\n-A "))
		raw1 += parallel(1, raw)
		raw2 += parallel(2, raw)
		nl2 += parallel(2, viaNlconn)
		t1 := time.Now()
		if _, err := ns.Exec("iptables-nft-save"); err != nil {
			b.Fatal(err)
		}
		tc += time.Since(t1)
	}
	n := float64(b.N)
	b.ReportMetric(float64(raw1.Milliseconds())/n, "raw-1-ms/op")
	b.ReportMetric(float64(raw2.Milliseconds())/n, "raw-2-ms/op")
	b.ReportMetric(float64(nl2.Milliseconds())/n, "nlconn-2-ms/op")
	b.ReportMetric(float64(tk.Milliseconds())/n, "nfkit-ms/op")
	b.ReportMetric(float64(tc.Milliseconds())/n, "cli-ms/op")
	b.ReportMetric(float64(tc)/float64(raw2), "cli/raw-2-x")
	b.ReportMetric(float64(tc)/float64(tk), "cli/nfkit-x")
}

// rawRuleDump is an nf_tables GETRULE dump request for one chain of an
// IPv4 table, built by hand (no nfkit code).
func rawRuleDump(table, chain string, seq uint32) []byte {
	b := make([]byte, unix.NLMSG_HDRLEN+4) // nlmsghdr + nfgenmsg
	b[unix.NLMSG_HDRLEN] = unix.AF_INET
	for i, s := range []string{table, chain} {
		l := 4 + len(s) + 1
		b = binary.NativeEndian.AppendUint16(b, uint16(l))
		b = binary.NativeEndian.AppendUint16(b, uint16(i+1)) // NFTA_RULE_TABLE, NFTA_RULE_CHAIN
		b = append(b, s...)
		b = append(b, 0)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	binary.NativeEndian.PutUint32(b[0:], uint32(len(b)))
	binary.NativeEndian.PutUint16(b[4:], unix.NFNL_SUBSYS_NFTABLES<<8|unix.NFT_MSG_GETRULE)
	binary.NativeEndian.PutUint16(b[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	binary.NativeEndian.PutUint32(b[8:], seq)
	return b
}

// rawDump sends req on fd and reads its replies up to NLMSG_DONE, two
// datagrams per recvmmsg; it returns how many rules came back.
func rawDump(fd int, req []byte) (int, error) {
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, err
	}
	var bufs [2][32 << 10]byte
	var iovs [2]unix.Iovec
	var hdrs [2]struct {
		hdr unix.Msghdr
		n   uint32
	}
	for i := range hdrs {
		iovs[i].Base = &bufs[i][0]
		iovs[i].SetLen(len(bufs[i]))
		hdrs[i].hdr.Iov = &iovs[i]
		hdrs[i].hdr.SetIovlen(1)
	}
	rules := 0
	for {
		got, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&hdrs[0])), 2, unix.MSG_WAITFORONE, 0, 0)
		if errno != 0 {
			return rules, errno
		}
		for k := 0; k < int(got); k++ {
			d := bufs[k][:hdrs[k].n]
			for len(d) >= unix.NLMSG_HDRLEN {
				l := binary.NativeEndian.Uint32(d)
				switch binary.NativeEndian.Uint16(d[4:]) {
				case unix.NLMSG_DONE:
					return rules, nil
				case unix.NLMSG_ERROR:
					return rules, unix.Errno(-int32(binary.NativeEndian.Uint32(d[16:])))
				}
				rules++
				d = d[min(int(l+3)&^3, len(d)):]
			}
		}
	}
}
