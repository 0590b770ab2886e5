// This file implements finding the source of a stored case again, so
// that signal and resume report a failure at its source position as run
// does.

package main

import (
	"os"
	"path/filepath"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
)

// caseSources returns the source files of case c's program, by the
// program's file indices, or nil when they cannot be had: the case
// records only the absolute path run was given, and the descriptor may
// outlive or disagree with what is there now, so the file is checked
// and lowered again and used only when it compiles to the very program
// the case runs (same hash). The path is made relative to the working
// directory, so a failure prints the name run printed when signal or
// resume runs where run did.
func caseSources(c *caseLog) map[int32]*source.File {
	if c.meta == nil || c.prog == nil {
		return nil
	}
	if app != nil { // a built binary runs its own program
		if h, err := app.prog.Hash(); err == nil && h == c.meta.Descriptor {
			return app.files
		}
		return nil
	}
	path := c.meta.Source
	if !filepath.IsAbs(path) {
		return nil // standard input, or a case recorded without a path
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, path); err == nil {
			path = rel
		}
	}
	pkg, info, diags := check.Load(path, &check.Config{ReadFile: readSource})
	if pkg == nil || diags.HasErrors() {
		return nil
	}
	prog, ldiags := compiler.Lower(pkg, info)
	if ldiags.HasErrors() {
		return nil
	}
	if h, err := prog.Hash(); err != nil || h != c.meta.Descriptor {
		return nil
	}
	return sourcesOf(prog, pkg)
}
