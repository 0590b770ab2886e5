// This file implements the soundness gate of "knhk check": a file that
// type-checks is lowered to the IR and every workflow net is explored; a
// net that can deadlock, livelock, leave tokens behind or never fire a
// transition is an error that shows the path that gets stuck.

package main

import (
	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/sound"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
)

// soundness lowers a checked package and runs the soundness analysis on
// every net. A construct the compiler cannot lower yet is a warning: the
// file is valid, but its soundness is not proven.
func soundness(pkg *check.Package, info *check.Info) (source.Diagnostics, []*sound.Report) {
	prog, ldiags := compiler.Lower(pkg, info)
	if ldiags.HasErrors() {
		var ds source.Diagnostics
		for _, d := range ldiags {
			w := *d
			w.Severity = source.Warning
			w.Message = "soundness not checked: " + d.Message
			ds = append(ds, &w)
		}
		return ds, nil
	}
	if err := prog.Verify(); err != nil {
		return noPos("internal error: the compiled program does not verify (this is a bug in knhk): " + err.Error()), nil
	}
	files := sourcesOf(prog, pkg)
	file := func(i int32) *source.File { return files[i] }
	// Warnings of the lowering (hooks that will not run, say) stand.
	var ds source.Diagnostics
	for _, d := range ldiags {
		if d.Severity == source.Warning {
			ds = append(ds, d)
		}
	}
	reports, idle := compiler.Soundness(prog, nil)
	for _, r := range reports {
		ds = append(ds, r.Diagnostics(file, source.Unsound)...)
	}
	for _, p := range idle {
		d := &source.Diagnostic{Severity: source.Warning, Code: source.Unsound, Message: p.Message}
		if p.Loc.Known() {
			d.File, d.Span = file(p.Loc.File), p.Loc.Span
		}
		ds = append(ds, d)
	}
	return ds, reports
}
