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

// soundness returns the diagnostics of compiler.Gate for the analysed
// file, computed once per analysis. A file with type errors has none: knhk
// check does not run the gate then either. As in knhk check, a construct
// the compiler cannot lower yet is a warning ("soundness not checked"):
// the file is valid, its soundness unproven.
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
		b, ds := compiler.Gate(a.pkg, a.info, nil)
		if b.Program == nil && b.Files == nil {
			for _, d := range ds {
				w := *d
				if w.Severity == source.Error {
					w.Severity = source.Warning
					w.Message = "soundness not checked: " + d.Message
				}
				a.gate = append(a.gate, &w)
			}
			return
		}
		a.gate = ds
	})
	return a.gate
}
