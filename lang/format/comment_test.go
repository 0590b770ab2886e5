// This file implements the test that puts a comment in every gap of the
// golden inputs.

package format

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/knhk/knhk/lang/syntax"
)

// TestCommentsAnywhere puts a comment at every gap between tokens of every
// golden input, one at a time, as a block and as a line comment, and
// checks the round trip each time: cue fmt's bug history (comments after
// commas, comments jumping, comments dropped) is about such places.
func TestCommentsAnywhere(t *testing.T) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "*.input"))
	if len(inputs) == 0 {
		t.Fatal("no inputs")
	}
	// Comments on lines of their own, with blank lines around, are left to
	// TestRandomPrograms.
	shapes := []string{"/*c*/", "//c\n"}
	if testing.Short() {
		shapes = shapes[1:]
	}
	for _, in := range inputs {
		src, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		tried := 0
		for i := 0; i <= len(src); i++ {
			// A gap: whitespace right after a token, or the start of a line.
			if i < len(src) && src[i] != ' ' && src[i] != '\n' {
				continue
			}
			if i > 0 && i < len(src) && (src[i-1] == ' ' || src[i-1] == '\t') {
				continue
			}
			for _, c := range shapes {
				mod := make([]byte, 0, len(src)+len(c))
				mod = append(append(append(mod, src[:i]...), c...), src[i:]...)
				f, diags := syntax.Parse(in, mod)
				if diags.HasErrors() {
					continue // inside a string, or a newline that ends a return
				}
				tried++
				checkParsed(t, in, f)
				if t.Failed() {
					t.Fatalf("comment %q at offset %d of %s", c, i, in)
				}
			}
		}
		if tried == 0 {
			t.Errorf("%s: no place for a comment", in)
		}
	}
}
