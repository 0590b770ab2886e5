// This file implements the gate every checked program passes before it
// runs: lowering, IR verification and the soundness proof, in one place,
// so that the command line, the language server and the tests reject the
// same programs for the same reasons.

package compiler

import (
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/compiler/sound"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
)

// Built is what [Gate] produces for one checked package.
type Built struct {
	// Program is the lowered, verified program, or nil when the package
	// could not be lowered or the result does not verify.
	Program *ir.Program
	// Files maps the program's file indexes to their sources.
	Files map[int32]*source.File
	// Reports holds the soundness report of every net, in program order
	// (nil when Program is nil).
	Reports []*sound.Report
}

// Build lowers a checked package, verifies the IR and proves every
// workflow net sound. It returns the program together with every
// diagnostic of the three steps: construct the compiler cannot lower
// ([source.NotImplemented] errors), an IR that does not verify (an
// internal error) and unsound nets ([source.Unsound] errors, with
// warnings for cancel regions that do nothing). A program is fit to run
// only when the diagnostics hold no error; the program itself is nil
// when lowering or verification failed.
//
// This is the gate of knhk check and knhk run; tests that run programs
// go through it too, so that nothing runs in a test that a user could
// not run.
func Build(pkg *check.Package, info *check.Info) (*ir.Program, source.Diagnostics) {
	b, ds := Gate(pkg, info, nil)
	return b.Program, ds
}

// Gate is [Build] with the exploration bounds of opts (nil for the
// defaults) and the per-net reports, which knhk check -v prints.
func Gate(pkg *check.Package, info *check.Info, opts *sound.Options) (*Built, source.Diagnostics) {
	b := &Built{}
	prog, ds := Lower(pkg, info)
	if ds.HasErrors() {
		return b, ds
	}
	b.Files = SourceFiles(pkg, prog)
	if err := prog.Verify(); err != nil {
		return b, append(ds, &source.Diagnostic{Severity: source.Error, Code: source.Unsound,
			Message: "internal error: the compiled program does not verify (this is a bug in knhk): " + err.Error()})
	}
	b.Program = prog
	reports, more := ProgramSoundness(prog, b.Files, opts)
	b.Reports = reports
	return b, append(ds, more...)
}

// ProgramSoundness proves every net of a verified program sound and
// returns the reports with their diagnostics: errors for unsound nets,
// warnings for proofs cut short and for cancel regions that never find
// their region running. files maps file indexes to sources (see
// [SourceFiles]); a missing entry leaves a diagnostic without position.
func ProgramSoundness(prog *ir.Program, files map[int32]*source.File, opts *sound.Options) ([]*sound.Report, source.Diagnostics) {
	file := func(i int32) *source.File { return files[i] }
	reports, idle := Soundness(prog, opts)
	var ds source.Diagnostics
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
	return reports, ds
}

// CheckGate is [Gate] as knhk check and the language server report it: a
// package the compiler cannot lower (yet) is a valid file whose soundness
// is unproven, so its lowering errors become warnings that say so
// ("soundness not checked: ..."); knhk run, ir and graph keep them as
// errors. Every other diagnostic is Gate's. One function, so that the
// editor and the command line cannot drift apart on this rule.
func CheckGate(pkg *check.Package, info *check.Info, opts *sound.Options) (*Built, source.Diagnostics) {
	b, ds := Gate(pkg, info, opts)
	if b.Program != nil || b.Files != nil {
		return b, ds
	}
	out := make(source.Diagnostics, 0, len(ds))
	for _, d := range ds {
		w := *d
		if w.Severity == source.Error {
			w.Severity = source.Warning
			w.Message = "soundness not checked: " + d.Message
		}
		out = append(out, &w)
	}
	return b, out
}
