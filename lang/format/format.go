// This file implements the entry points: Source and Bytes.

package format

import (
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// Source returns the canonical text of f. The caller must only pass a file
// that parsed without errors: the printer prints the tree, and a tree with
// missing declarations would lose text. The result ends in one newline.
func Source(f *syntax.File) []byte {
	if f == nil {
		return nil
	}
	p := newPrinter(f)
	p.file(f)
	return p.buf.Bytes()
}

// Bytes parses src as the file named name and formats it. When the source
// has syntax errors it returns nil and the diagnostics: broken code is
// never formatted. Warnings, if any, are returned with the output.
func Bytes(name string, src []byte) ([]byte, source.Diagnostics) {
	f, diags := syntax.Parse(name, src)
	if diags.HasErrors() {
		return nil, diags
	}
	return Source(f), diags
}
