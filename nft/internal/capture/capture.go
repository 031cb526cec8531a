// Package capture records the netlink messages a reference CLI tool (nft,
// iptables-nft-restore) sends, by running it under strace inside a test
// namespace. It is a test helper for packages nft and nft/expr: fixtures
// of the requests the tools send are facts about the kernel ABI, and
// capturing them this way works even where the running kernel refuses the
// request (the tool sends before the kernel answers). Library code never
// imports it.
package capture

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nfkit/nfkit/internal/nstest"
)

// Msg is one netlink message of a sendmsg, split at the nfgenmsg header.
type Msg struct {
	Type   uint16 // nlmsg_type (subsystem << 8 | command for nfnetlink)
	Flags  uint16 // nlmsg_flags
	Family uint8  // nfgen_family
	Attrs  []byte // the attributes after the nfgenmsg header
}

// Cmd is the nfnetlink command of m (the low byte of its type).
func (m Msg) Cmd() uint8 { return uint8(m.Type) }

// Sendmsg runs argv (with stdin) in ns under `strace -f -e trace=sendmsg`,
// dumping every sent buffer, and returns the netlink messages of every
// sendmsg in order (batch begin/end included). The tool may fail (a
// kernel that lacks a feature refuses the request): the error is
// returned along with whatever was sent.
func Sendmsg(ns *nstest.NS, stdin []byte, argv ...string) ([]Msg, error) {
	dir, err := os.MkdirTemp("", "nfkit-capture")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "trace")
	fds := make([]string, 0, 30)
	for fd := 3; fd < 33; fd++ {
		fds = append(fds, strconv.Itoa(fd))
	}
	args := append([]string{"-f", "-qq", "-o", out, "-e", "trace=sendmsg", "-e", "write=" + strings.Join(fds, ",")}, argv...)
	_, runErr := ns.ExecInput(stdin, "strace", args...)
	trace, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("capture %v: %w (run: %v)", argv, err, runErr)
	}
	bufs, err := parseHexdumps(string(trace))
	if err != nil {
		return nil, err
	}
	var msgs []Msg
	for _, b := range bufs {
		for len(b) >= 16 {
			l := int(binary.NativeEndian.Uint32(b))
			if l < 16 || l > len(b) {
				return nil, fmt.Errorf("capture: netlink length %d of %d bytes", l, len(b))
			}
			m := Msg{Type: binary.NativeEndian.Uint16(b[4:]), Flags: binary.NativeEndian.Uint16(b[6:])}
			if l >= 20 {
				m.Family = b[16]
				m.Attrs = b[20:l]
			}
			msgs = append(msgs, m)
			b = b[(l+3)&^3:]
		}
	}
	return msgs, runErr
}

// parseHexdumps reads strace's `-e write=` dumps: after each syscall line,
// lines like ` | 00010  00 00 ... 0a  ascii |`; each sendmsg starts a new
// buffer at offset 0.
func parseHexdumps(trace string) ([][]byte, error) {
	var bufs [][]byte
	for _, line := range strings.Split(trace, "\n") {
		// strace -f -o prefixes lines with the pid.
		i := strings.Index(line, " | ")
		if i < 0 {
			continue
		}
		body := line[i+3:]
		if len(body) < 7 {
			continue
		}
		off, err := strconv.ParseUint(body[:5], 16, 32)
		if err != nil {
			continue
		}
		hexpart := body[7:]
		if len(hexpart) > 49 {
			hexpart = hexpart[:49] // 16 bytes: "xx xx ... xx  xx ... xx"
		}
		b, err := hex.DecodeString(strings.ReplaceAll(hexpart, " ", ""))
		if err != nil {
			return nil, fmt.Errorf("capture: hexdump line %q: %w", line, err)
		}
		if off == 0 {
			bufs = append(bufs, nil)
		}
		if len(bufs) == 0 || int(off) != len(bufs[len(bufs)-1]) {
			return nil, fmt.Errorf("capture: hexdump offset %#x out of sequence", off)
		}
		bufs[len(bufs)-1] = append(bufs[len(bufs)-1], b...)
	}
	return bufs, nil
}
