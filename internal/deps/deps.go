//go:build nfkit_deps

// Package deps pins modules that only tests and later packages import, so
// go.mod and go.sum stay stable while packages are written in parallel.
package deps

import (
	_ "github.com/google/nftables"
	_ "github.com/mdlayher/genetlink"
)
