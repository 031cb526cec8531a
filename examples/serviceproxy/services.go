package main

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"io"
	"net/netip"
)

// Service is what a service proxy is told: a virtual IP and port (TCP) and
// the endpoints behind it.
type Service struct {
	Name      string
	VIP       netip.Addr
	Port      uint16
	Endpoints []netip.AddrPort
}

// proxier programs the kernel for one mode. Sync makes the kernel match
// services, changing only what differs from the previous Sync.
type proxier interface {
	Sync(ctx context.Context, services []Service) error
	// Describe prints the rules as the matching CLI tool would list them.
	Describe(ctx context.Context, w io.Writer) error
	Close() error
}

// hashName is kube-proxy's trick for chain names: a short, stable hash of
// what the chain stands for, so the same input gives the same chain.
func hashName(prefix string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return prefix + base32.StdEncoding.EncodeToString(h.Sum(nil))[:16]
}
