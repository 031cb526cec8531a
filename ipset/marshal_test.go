package ipset

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/mdlayher/netlink"

	"github.com/nfkit/nfkit/internal/attr"
)

// fixture is one request the ipset CLI sent, from testdata/cli_requests.txt.
type fixture struct {
	name string
	args []string
	msg  []byte // netlink header + payload
}

func loadFixtures(t *testing.T) []fixture {
	t.Helper()
	f, err := os.Open("testdata/cli_requests.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []fixture
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "#") || l == "" {
			continue
		}
		parts := strings.SplitN(l, "|", 3)
		b, err := hex.DecodeString(parts[2])
		if err != nil {
			t.Fatalf("%s: %v", parts[0], err)
		}
		toks, err := tokenize(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fixture{name: parts[0], args: toks, msg: b})
	}
	return out
}

// topAttrs splits a request's attributes, returning those other than
// DATA/ADT/LINENO in order, and the content of the (first) entry DATA
// nest without its line number.
func topAttrs(t *testing.T, msg []byte) (top [][]byte, data []byte) {
	t.Helper()
	it := attr.NewIter(msg[20:])
	for it.Next() {
		switch it.Kind() {
		case attrLineNo:
		case attrADT:
			in := attr.NewIter(it.Data())
			if in.Next() {
				data = stripLineNo(t, in.Data())
			}
		case attrData:
			if len(msg) > 17 && msg[4] != byte(cmdCreate) {
				data = stripLineNo(t, it.Data())
				continue
			}
			top = append(top, it.Attr())
		default:
			top = append(top, it.Attr())
		}
	}
	if it.Err() != nil {
		t.Fatal(it.Err())
	}
	return top, data
}

func stripLineNo(t *testing.T, b []byte) []byte {
	var out []byte
	it := attr.NewIter(b)
	for it.Next() {
		if it.Kind() != attrCADTLineNo {
			out = append(out, it.Attr()...)
		}
	}
	return out
}

func serialize(m netlink.Message) []byte {
	b := make([]byte, 16, 16+len(m.Data))
	binary.NativeEndian.PutUint32(b[0:], uint32(16+len(m.Data)))
	binary.NativeEndian.PutUint16(b[4:], uint16(m.Header.Type))
	binary.NativeEndian.PutUint16(b[6:], uint16(m.Header.Flags))
	return append(b, m.Data...)
}

// TestEncodeMatchesCLI replays the commands the ipset CLI was traced
// sending and compares our requests with its bytes: message type, the
// command attributes, and each entry's attributes (the CLI sends one entry
// in IPSET_ATTR_DATA, nfkit a list in IPSET_ATTR_ADT; the entry inside is
// the same).
func TestEncodeMatchesCLI(t *testing.T) {
	c := &Conn{protocol: 7, revs: map[revKey]revRange{}}
	sets := map[string]*Set{}
	for _, fx := range loadFixtures(t) {
		t.Run(fx.name, func(t *testing.T) {
			var msg netlink.Message
			verb := fx.args[0]
			switch verb {
			case "create":
				s, err := parseCreate(fx.args[1], SetType(fx.args[2]), fx.args[3:])
				if err != nil {
					t.Fatal(err)
				}
				// The revision the CLI negotiated with this kernel.
				it := attr.NewIter(fx.msg[20:])
				for it.Next() {
					if it.Kind() == attrRevision {
						s.Revision = it.Data()[0]
					}
				}
				sets[s.Name] = &s
				b := Batch{}
				b.Create(s)
				msg = encodeOne(t, c, &b)
			case "add", "del", "test":
				s := sets[fx.args[1]]
				e, err := ParseEntry(s, fx.args[2], fx.args[3:]...)
				if err != nil {
					t.Fatal(err)
				}
				switch verb {
				case "test":
					ti, _ := lookupType(s.Type)
					w := c.newAttrs(64)
					w.String(attrSetName, s.Name)
					d := w.begin(attrData)
					e.appendEntryData(w, 0, ti.defaultProto())
					w.End(d)
					msg = c.message(cmdTest, 0, w.Buf)
				default:
					b := Batch{}
					sc := *s
					b.Create(sc) // makes the set known to the batch without I/O
					if verb == "add" {
						b.Add(s.Name, e)
					} else {
						b.Delete(s.Name, e)
					}
					chunks, err := c.encodeBatch(t.Context(), &b)
					if err != nil {
						t.Fatal(err)
					}
					msg = chunks[1].msg
				}
			case "destroy", "flush", "rename", "swap":
				b := Batch{}
				switch verb {
				case "destroy":
					b.Destroy(fx.args[1])
				case "flush":
					b.Flush(fx.args[1])
				case "rename":
					b.Rename(fx.args[1], fx.args[2])
				case "swap":
					b.Swap(fx.args[1], fx.args[2])
				}
				msg = encodeOne(t, c, &b)
			case "list", "save":
				name := ""
				terse := false
				for _, a := range fx.args[1:] {
					if a == "-t" {
						terse = true
					} else {
						name = a
					}
				}
				msg = c.listRequest(name, terse)
				if verb == "save" {
					msg.Header.Type = msg.Header.Type&^0xff | netlink.HeaderType(cmdSave)
				}
			default:
				t.Fatalf("no replay for %q", verb)
			}
			got := serialize(msg)
			if got[4] != fx.msg[4] || got[5] != fx.msg[5] {
				t.Fatalf("message type %x, CLI %x", got[4:6], fx.msg[4:6])
			}
			wantTop, wantData := topAttrs(t, fx.msg)
			gotTop, gotData := topAttrs(t, got)
			if !bytes.Equal(bytes.Join(gotTop, nil), bytes.Join(wantTop, nil)) {
				t.Errorf("command attributes differ\n got %x\nwant %x", bytes.Join(gotTop, nil), bytes.Join(wantTop, nil))
			}
			if !bytes.Equal(gotData, wantData) {
				t.Errorf("entry attributes differ\n got %x\nwant %x", gotData, wantData)
			}
			// -exist semantics ride on NLM_F_EXCL for create, add/del and destroy.
			if verb == "create" || verb == "add" || verb == "del" || verb == "destroy" {
				if gf, wf := got[7]&0x2, fx.msg[7]&0x2; gf != wf {
					t.Errorf("NLM_F_EXCL: got %v, CLI %v", gf != 0, wf != 0)
				}
			}
		})
	}
}

func encodeOne(t *testing.T, c *Conn, b *Batch) netlink.Message {
	t.Helper()
	chunks, err := c.encodeBatch(t.Context(), b)
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) != 1 {
		t.Fatalf("%d messages", len(chunks))
	}
	return chunks[0].msg
}
