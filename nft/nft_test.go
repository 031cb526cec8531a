package nft

import (
	"context"
	"testing"
	"time"

	"github.com/nfkit/nfkit/internal/nstest"
)

// testConn dials nf_tables inside a fresh namespace.
func testConn(t testing.TB) (*Conn, *nstest.NS) {
	t.Helper()
	ns := nstest.New(t)
	c, err := Dial(&Config{NetNS: ns.FD()})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c, ns
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
