// This file implements FuzzParse, the fuzz test of the parser and the
// formatter together.

package format

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// FuzzParse checks invariants of the parser and the formatter on any
// input: Parse never panics; every diagnostic, node and comment span lies
// inside the source; and when there are no errors, formatting is
// idempotent, keeps the syntax tree and the comments, and its output
// parses without errors. Seeds: the golden inputs, the examples, the
// workflow-pattern programs, plus the files in
// testdata/fuzz/FuzzParse (hand-written cases and past crashers).
func FuzzParse(f *testing.F) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "*.input"))
	examples, _ := filepath.Glob(filepath.Join("..", "..", "examples", "*.knhk"))
	patterns, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "patterns", "*.knhk"))
	for _, in := range append(append(inputs, examples...), patterns...) {
		if b, err := os.ReadFile(in); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		file, diags := syntax.Parse("fuzz.knhk", src)
		n := source.Pos(len(src))
		inside := func(sp source.Span) bool { return 0 <= sp.Start && sp.Start <= sp.End && sp.End <= n }
		for _, d := range diags {
			if !inside(d.Span) {
				t.Fatalf("diagnostic %q has span %v outside [0, %d]", d.Message, d.Span, n)
			}
		}
		syntax.Inspect(file, func(x any) bool {
			if sp, ok := syntax.SpanOf(x); ok && !inside(sp) {
				t.Fatalf("%T has span %v outside [0, %d]", x, sp, n)
			}
			return true
		})
		for _, c := range file.Comments {
			if !inside(c.Span()) {
				t.Fatalf("comment %q has span %v outside [0, %d]", c.Text, c.Span(), n)
			}
		}
		if diags.HasErrors() {
			// Callers must not format such a tree, but the declarations
			// that did parse are whole, so printing them must not panic.
			Source(file)
			return
		}
		checkParsed(t, "fuzz.knhk", file)
	})
}
