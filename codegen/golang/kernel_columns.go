// This file implements the column translation of kernel bodies.

package golang

import (
	"github.com/dave/jennifer/jen"

	"github.com/knhk/knhk/compiler/ir"
)

// columns generates kernelColumns<k>, or returns nil and the reason the
// body must run one element at a time.
func (g *kgen) columns(k int, kn *ir.Kernel) (jen.Code, string) {
	return nil, "not yet compiled to columns"
}
