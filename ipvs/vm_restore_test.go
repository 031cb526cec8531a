//go:build vmtest

package ipvs

import (
	"context"
	"errors"
	"io/fs"
	"net/netip"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/internal/nstest"
)

// restoreScript uses every command Restore takes; ipvsadm -R must accept
// all of it too.
const restoreScript = `-A -t 192.0.2.10:80
-A -t 192.0.2.1:80 -s rr
-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 2
-a -t 192.0.2.1:80 -r 198.51.100.2:80 -m
-A -t 192.0.2.2:443 -s wlc -p 600 -M 255.255.255.0
-a -t 192.0.2.2:443 -r 198.51.100.3:443 -g
-a -t 192.0.2.2:443 -r 198.51.100.4:8443 -i -w 2
-E -t 192.0.2.2:443 -s rr
-e -t 192.0.2.1:80 -r 198.51.100.2:80 -m -w 5 -x 100
-d -t 192.0.2.1:80 -r 198.51.100.1:80
--add-service --udp-service 192.0.2.3:53 --scheduler sh -b sh-port
-E -u 192.0.2.3:53 -s sh -b sh-fallback
-E -u 192.0.2.3:53 -p 30
-A -f 7 -s rr
-a -f 7 -r 198.51.100.9:0 -g
-D -f 7
-A -t [2001:db8::1]:80 -s lc
-a -t [2001:db8::1]:80 -r [2001:db8::2]:8080 -m
-Z
-Z -t 192.0.2.1:80
`

// The same text through ipvsadm -R and through Restore gives the same
// table (compared as ipvsadm -Sn prints it), and every line is applied.
func TestVMRestoreMatchesIpvsadm(t *testing.T) {
	for name, text := range map[string]string{
		"edits": restoreScript,
		"clear": restoreScript + "-C\n-A -t 203.0.113.1:25 -s wrr\n-a -t 203.0.113.1:25 -r 198.51.100.7:25 -m -w 3\n",
	} {
		t.Run(name, func(t *testing.T) {
			c, ns := dialNS(t)
			ref := nstest.New(t)
			ref.RunInput(t, text, "ipvsadm", "-R")
			want := ref.Run(t, "ipvsadm", "-Sn")

			lines, err := c.Restore(context.Background(), strings.NewReader(text), nil)
			if err != nil {
				t.Fatal(err)
			}
			cmds := 0
			for _, l := range strings.Split(text, "\n") {
				if l != "" && !strings.HasPrefix(l, "#") {
					cmds++
				}
			}
			if len(lines) != cmds {
				t.Fatalf("%d results for %d command lines", len(lines), cmds)
			}
			for _, l := range lines {
				if l.Err != nil {
					t.Errorf("line %d %q: %v", l.Line, l.Text, l.Err)
				}
			}
			if got := ns.Run(t, "ipvsadm", "-Sn"); got != want {
				t.Errorf("after Restore, ipvsadm -Sn:\n%s\nafter ipvsadm -R:\n%s", got, want)
			}
		})
	}
}

// A line the kernel refuses: by default Restore goes on, as ipvsadm -R
// does, and reports that line; with StopOnError nothing after the failing
// pipelined window is sent, and every line's reported outcome matches
// what the kernel holds.
func TestVMRestoreFailingLine(t *testing.T) {
	text := "-A -t 192.0.2.1:80 -s rr\n" +
		"-a -t 192.0.2.9:80 -r 198.51.100.1:80 -m\n" + // no such service
		"-A -t 192.0.2.2:80 -s rr\n"
	t.Run("continue", func(t *testing.T) {
		c, ns := dialNS(t)
		ref := nstest.New(t)
		out, _ := ref.ExecInput([]byte(text), "ipvsadm", "-R") // reports the bad line, goes on
		if !strings.Contains(out, "Service not defined") {
			t.Fatalf("ipvsadm -R said %q", out)
		}
		lines, err := c.Restore(context.Background(), strings.NewReader(text), nil)
		if !errors.Is(err, fs.ErrNotExist) || lines[0].Err != nil || lines[1].Line != 2 ||
			!errors.Is(lines[1].Err, fs.ErrNotExist) || lines[2].Err != nil {
			t.Fatalf("err = %v, lines %+v", err, lines)
		}
		if got, want := ns.Run(t, "ipvsadm", "-Sn"), ref.Run(t, "ipvsadm", "-Sn"); got != want {
			t.Errorf("Restore:\n%s\nipvsadm -R:\n%s", got, want)
		}
	})
	t.Run("stop", func(t *testing.T) {
		c, _ := dialNS(t)
		lines, err := c.Restore(context.Background(), strings.NewReader(text), &RestoreOptions{StopOnError: true})
		if !errors.Is(err, fs.ErrNotExist) || len(lines) != 3 || lines[0].Err != nil || !errors.Is(lines[1].Err, fs.ErrNotExist) {
			t.Fatalf("err = %v, lines %+v", err, lines)
		}
		_, gerr := c.GetService(context.Background(), ServiceKey{Protocol: TCP, Addr: netip.MustParseAddr("192.0.2.2"), Port: 80})
		switch {
		case lines[2].Err == nil && gerr != nil:
			t.Errorf("line 3 reported applied, but: %v", gerr)
		case errors.Is(lines[2].Err, ErrNotSent) && !errors.Is(gerr, fs.ErrNotExist):
			t.Errorf("line 3 reported not sent, but the service exists (%v)", gerr)
		case lines[2].Err != nil && !errors.Is(lines[2].Err, ErrNotSent):
			t.Errorf("line 3: %v", lines[2].Err)
		}
	})
}

// -E of a service that does not exist is that line's failure.
func TestVMRestoreEditMissing(t *testing.T) {
	c, _ := dialNS(t)
	lines, err := c.Restore(context.Background(), strings.NewReader("-A -t 192.0.2.1:80\n-E -t 192.0.2.2:80 -s rr\n"), nil)
	if !errors.Is(err, fs.ErrNotExist) || lines[0].Err != nil || !errors.Is(lines[1].Err, fs.ErrNotExist) {
		t.Fatalf("err = %v, lines %+v", err, lines)
	}
}

// Bad input anywhere: nothing is applied.
func TestVMRestoreInvalidAppliesNothing(t *testing.T) {
	c, _ := dialNS(t)
	_, err := c.Restore(context.Background(), strings.NewReader("-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.1 -w 70000\n"), nil)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err = %v", err)
	}
	if svcs, err := c.ListServices(context.Background()); err != nil || len(svcs) != 0 {
		t.Fatalf("%d services after rejected input (%v)", len(svcs), err)
	}
}
