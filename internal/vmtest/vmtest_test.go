package vmtest

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nfkit/nfkit/internal/nstest"
)

// readNewc parses a newc archive: name → content (directories map to "/").
func readNewc(t *testing.T, b []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	align := func(n int) int { return (n + 3) &^ 3 }
	for off := 0; ; {
		if len(b)-off < 110 || string(b[off:off+6]) != "070701" {
			t.Fatalf("bad header at %d", off)
		}
		field := func(i int) int {
			v, err := strconv.ParseUint(string(b[off+6+8*i:off+14+8*i]), 16, 32)
			if err != nil {
				t.Fatal(err)
			}
			return int(v)
		}
		mode, size, nameSize := field(1), field(6), field(11)
		name := string(b[off+110 : off+110+nameSize-1])
		off = align(off + 110 + nameSize)
		if name == "TRAILER!!!" {
			return out
		}
		data := string(b[off : off+size])
		off = align(off + size)
		switch mode & 0o170000 {
		case sIFDIR:
			out[name] = "/"
		case sIFLNK:
			out[name] = "->" + data
		default:
			out[name] = data
		}
	}
}

func TestArchive(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(src, []byte("hello, odd length"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := newArchive()
	a.file("/usr/bin/x", src, 0o755)
	a.bytes("init", []byte("#!/bin/sh\n"), 0o755)
	a.symlink("/bin/sh", "busybox")
	var buf bytes.Buffer
	if err := a.write(&buf); err != nil {
		t.Fatal(err)
	}
	got := readNewc(t, buf.Bytes())
	want := map[string]string{
		"usr": "/", "usr/bin": "/", "usr/bin/x": "hello, odd length",
		"init": "#!/bin/sh\n", "bin": "/", "bin/sh": "->busybox",
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	// The system cpio must agree with our reading of the format.
	if _, err := exec.LookPath("cpio"); err == nil {
		cmd := exec.Command("cpio", "-t", "--quiet")
		cmd.Stdin = bytes.NewReader(buf.Bytes())
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("cpio -t: %v", err)
		}
		names := strings.Fields(string(out))
		slices.Sort(names)
		if !slices.Equal(names, []string{"bin", "bin/sh", "init", "usr", "usr/bin", "usr/bin/x"}) {
			t.Errorf("cpio -t lists %v", names)
		}
	}
}

func TestResolveOrder(t *testing.T) {
	dir := t.TempDir()
	dep := "kernel/ipvs/ip_vs.ko: kernel/nf_conntrack.ko kernel/lib/libcrc32c.ko\n" +
		"kernel/nf_conntrack.ko: kernel/lib/libcrc32c.ko\n" +
		"kernel/lib/libcrc32c.ko:\n" +
		"kernel/crypto/crc32c_generic.ko:\n" +
		"kernel/ipvs/ip_vs_rr.ko: kernel/ipvs/ip_vs.ko kernel/nf_conntrack.ko kernel/lib/libcrc32c.ko\n" +
		"kernel/ipvs/ip_vs_wrr.ko: kernel/ipvs/ip_vs.ko kernel/nf_conntrack.ko kernel/lib/libcrc32c.ko\n"
	if err := os.WriteFile(filepath.Join(dir, "modules.dep"), []byte(dep), 0o644); err != nil {
		t.Fatal(err)
	}
	idx, err := loadModuleIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := idx.resolve([]string{"crc32c-generic", "ip_vs_*"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"kernel/crypto/crc32c_generic.ko", "kernel/lib/libcrc32c.ko", "kernel/nf_conntrack.ko",
		"kernel/ipvs/ip_vs.ko", "kernel/ipvs/ip_vs_rr.ko", "kernel/ipvs/ip_vs_wrr.ko"}
	if !slices.Equal(got, want) {
		t.Errorf("order %v\nwant  %v", got, want)
	}
	if _, err := idx.resolve([]string{"no_such_mod"}); err == nil {
		t.Error("unknown module pattern accepted")
	}
}

func TestVersionLess(t *testing.T) {
	if !versionLess("6.1.0-9-amd64", "6.1.0-56-amd64") || versionLess("6.1.0-56-amd64", "5.10.0-30-amd64") {
		t.Error("kernel versions must compare numerically")
	}
}

func TestRelay(t *testing.T) {
	const m = "VMTEST-abc"
	in := "boot noise\r\n" + m + "-START\r\n=== RUN TestX\r\n--- PASS: TestX\nno newline" + m + "-EXIT=7\r\nafter\n"
	var out, con bytes.Buffer
	st, err := relay(strings.NewReader(in), &out, &con, m)
	if err != nil {
		t.Fatal(err)
	}
	if st.code != 7 || !st.started {
		t.Errorf("status %+v", st)
	}
	if out.String() != "=== RUN TestX\n--- PASS: TestX\nno newline" {
		t.Errorf("output %q", out.String())
	}
	if con.String() != "boot noise\n" {
		t.Errorf("console %q", con.String())
	}
	st, _ = relay(strings.NewReader(m+"-START\nKernel panic\n"), io.Discard, nil, m)
	if st.code != -1 || !strings.Contains(st.tail(), "Kernel panic") {
		t.Errorf("a guest dying without a status must not look like success: %+v", st)
	}
}

func TestShellQuote(t *testing.T) {
	arg := `a b'c"$d`
	out, err := exec.Command("sh", "-c", "printf %s "+shellQuote(arg)).Output()
	if err != nil || string(out) != arg {
		t.Errorf("quoted round trip %q %v", out, err)
	}
}

// TestRunner boots the second kernel once through the real entry point,
// `go test -exec vmtest`, running testdata/guest: TestIPVS must pass there
// (ip_vs loaded, ipvsadm present, cwd and testdata as go test sets them up)
// and TestFail must fail, and its failure must be go test's exit status.
func TestRunner(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a VM")
	}
	if err := Available(); err != nil {
		nstest.Unavailable(t, err.Error())
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		nstest.Unavailable(t, "needs the go command to build the guest test")
	}
	runner := filepath.Join(t.TempDir(), "vmtest")
	build := exec.Command(goBin, "build", "-o", runner, "github.com/nfkit/nfkit/cmd/vmtest")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build runner: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "test", "-exec", runner, "-v", "-count=1",
		"-run", "TestIPVS|TestFail", "./testdata/guest")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "CI=vm-marker", "VMTEST_TIMEOUT=3m")
	out, err := cmd.CombinedOutput()
	t.Logf("go test -exec vmtest:\n%s", out)
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("go test should exit 1 because TestFail fails, got %v", err)
	}
	for _, want := range []string{
		"--- PASS: TestIPVS",
		"--- FAIL: TestFail",
		"failing on purpose",
		`CI="vm-marker"`,
		"kernel 6.", // whatever Debian kernel, not a stand-in
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	host, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	if strings.Contains(string(out), "kernel "+strings.TrimSpace(string(host))+",") {
		t.Error("the guest ran the host's kernel")
	}
}
