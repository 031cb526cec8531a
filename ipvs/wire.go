package ipvs

import (
	"fmt"

	"github.com/nfkit/nfkit/internal/attr"
)

// walker is the shared attribute walker (attr.Iter: in place, allocation
// free, never panics) with the package's error prefix. ListServices
// decodes every destination of every service; with mdlayher's
// AttributeDecoder each destination cost about thirty allocations (a
// decoder per nest, a copy per Bytes call), which under a slow CPU (qemu
// TCG) was most of the listing time. Integers are host order, as IPVS
// sends them (U16Host, U32Host); strings lose all trailing NULs (String).
type walker struct{ attr.Iter }

// newWalker sets the Iter in place (no copy of the whole struct).
func newWalker(b []byte) (w walker) {
	w.Reset(b)
	return w
}

// err is the walk's first error, prefixed with the package name.
func (w *walker) err() error {
	if err := w.Err(); err != nil {
		return fmt.Errorf("ipvs: %w", err)
	}
	return nil
}

// raw copies the current attribute, flags included, for Unknown.
func (w *walker) raw() RawAttr { return RawAttr{Type: w.Type(), Data: attr.Clone(w.Data())} }
