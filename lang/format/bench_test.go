// This file implements the printer benchmark.

package format

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/knhk/knhk/lang/syntax"
)

// BenchmarkSource formats the golden inputs, already parsed, so that the
// number is the printer's alone.
func BenchmarkSource(b *testing.B) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "*.input"))
	var files []*syntax.File
	size := 0
	for _, in := range inputs {
		src, err := os.ReadFile(in)
		if err != nil {
			b.Fatal(err)
		}
		f, diags := syntax.Parse(in, src)
		if diags.HasErrors() {
			b.Fatal(diags)
		}
		files = append(files, f)
		size += len(src)
	}
	b.SetBytes(int64(size))
	for b.Loop() {
		for _, f := range files {
			Source(f)
		}
	}
}
