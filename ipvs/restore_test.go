package ipvs

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseRestoreCommands(t *testing.T) {
	text := `-A -t 192.0.2.1:80 -s rr -p
-E --tcp-service 192.0.2.1:80
-a -t 192.0.2.1:80 -r 198.51.100.1 -m -w 3

# a comment
-e -t 192.0.2.1:80 -r 198.51.100.1:8080 -x 10
-d -t 192.0.2.1:80 -r 198.51.100.1:8080
-D -f 7 -6
-C
-Z
-Z -u [2001:db8::1]:53
`
	cmds, err := parseRestore(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, c := range cmds {
		kinds = append(kinds, c.kind)
	}
	if got := strings.Join(kinds, " "); got != "-A -E -a -e -d -D -C -Z -Z" {
		t.Fatalf("kinds %q", got)
	}
	if cmds[0].svc.Timeout != 300*time.Second || cmds[0].svc.Scheduler != RoundRobin {
		t.Errorf("-A: %+v", cmds[0].svc)
	}
	// -E takes ipvsadm's defaults for what the line leaves out.
	if e := cmds[1].svc; e.Scheduler != WeightedLeastConnection || e.Timeout != 0 || cmds[1].line != 2 {
		t.Errorf("-E: %+v", e)
	}
	if a := cmds[2].dest; a.Port != 80 || a.Forward != Masquerade || a.Weight != 3 {
		t.Errorf("-a: %+v", a)
	}
	// Direct routing: ipvsadm puts the service's port, whatever -r says.
	if e := cmds[3].dest; e.Port != 80 || e.Forward != DirectRoute || e.Weight != 1 || e.UpperThreshold != 10 || cmds[3].line != 6 {
		t.Errorf("-e: %+v (line %d)", e, cmds[3].line)
	}
	if d := cmds[5].svc; d.FWMark != 7 || d.Family != IPv6 {
		t.Errorf("-D: %+v", d)
	}
	if z := cmds[8].svc; z.Protocol != UDP || z.Port != 53 {
		t.Errorf("-Z: %+v", z)
	}
}

func TestParseRestoreRejects(t *testing.T) {
	for _, text := range []string{
		"-A -t 192.0.2.1:80\n-R\n",                      // not a restore command
		"-C -t 192.0.2.1:80\n",                          // -C takes nothing
		"-d -t 192.0.2.1:80\n",                          // -d needs -r
		"-D\n",                                          // -D needs a service
		"-E -t 192.0.2.1:80 -s nosuch\n",                // unknown scheduler
		"-e -t 192.0.2.1:80 -r 198.51.100.1 -w 70000\n", // weight out of range
		"-L -n\n",
	} {
		if _, err := parseRestore(strings.NewReader(text)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: err = %v, want ErrInvalid", text, err)
		}
	}
	// ParseRules stays a reader of -A/-a definitions.
	if _, err := ParseRules(strings.NewReader("-A -t 192.0.2.1:80\n-D -t 192.0.2.1:80\n")); !errors.Is(err, ErrInvalid) ||
		!strings.Contains(err.Error(), "line 2") {
		t.Errorf("ParseRules with -D: %v", err)
	}
}

// parseRestore never panics, and whatever it accepts is a known command
// on a service (or a bare -C / -Z).
func FuzzParseRestore(f *testing.F) {
	f.Add("-A -t 192.0.2.1:80 -s rr\n-E -t 192.0.2.1:80 -p\n-e -t 192.0.2.1:80 -r 198.51.100.1 -m\n")
	f.Add("-d -f 7 -6 -r [2001:db8::1]:0\n-D -u 192.0.2.1:53\n-C\n-Z\n")
	f.Fuzz(func(t *testing.T, text string) {
		cmds, err := parseRestore(strings.NewReader(text))
		if err != nil {
			return
		}
		for _, c := range cmds {
			switch c.kind {
			case "-C", "-Z":
			case "-A", "-E", "-D", "-a", "-e", "-d":
				if !c.svc.Addr.IsValid() && c.svc.FWMark == 0 {
					t.Fatalf("line %d %q: %s without a service", c.line, c.text, c.kind)
				}
			default:
				t.Fatalf("line %d: kind %q", c.line, c.kind)
			}
		}
	})
}
