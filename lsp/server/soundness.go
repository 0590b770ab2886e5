// This file implements the soundness diagnostics: the gate of knhk check
// (lower, verify, prove every workflow net sound) run on a document that
// type-checks, so that a file clean in the editor is clean for the
// command line too.

package server

import (
	"fmt"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/lang/source"
)

// soundness returns the diagnostics of compiler.CheckGate for the
// analysed file, computed once per analysis: the function knhk check
// calls, so a construct the compiler cannot lower yet is a warning here
// as there. A file with type errors has none: knhk check does not run the
// gate then either.
func (a *analysis) soundness() source.Diagnostics {
	a.gateOnce.Do(func() {
		if a.pkg == nil || a.info == nil || a.diags.HasErrors() {
			return
		}
		defer func() {
			if r := recover(); r != nil {
				a.gate = source.Diagnostics{{Severity: source.Error, File: a.file.Source,
					Message: fmt.Sprintf("internal error in the soundness check: %v", r)}}
			}
		}()
		_, a.gate = compiler.CheckGate(a.pkg, a.info, nil)
	})
	return a.gate
}
