// This file implements the soundness gate of "knhk check" and "knhk run":
// both call [compiler.Gate], the one place that lowers a checked file,
// verifies its IR and proves every workflow net sound, so that a file
// clean for check runs and a file check rejects does not.

package main

import (
	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/sound"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
)

// soundness passes a checked package through the gate for knhk check:
// [compiler.CheckGate], where a construct the compiler cannot lower yet
// is a warning (the file is valid, its soundness not proven; knhk run, ir
// and graph make it an error).
func soundness(pkg *check.Package, info *check.Info) (source.Diagnostics, []*sound.Report) {
	b, ds := compiler.CheckGate(pkg, info, nil)
	return ds, b.Reports
}

// soundGate is the gate of knhk run for a compiled file: it prints the
// errors of the soundness proof and reports whether the file may run.
func soundGate(e *env, c *compiled) bool {
	_, ds := compiler.ProgramSoundness(c.prog, c.files, nil)
	var errs source.Diagnostics
	for _, d := range ds {
		if d.Severity == source.Error {
			errs = append(errs, d)
		}
	}
	if len(errs) > 0 {
		printDiagnostics(e, errs)
		return false
	}
	return true
}
