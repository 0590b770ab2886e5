// This file implements the usual Options.Pos: locations rendered as
// "file.knhk:line" from the program's sources, for knhk build and the
// back end's tests alike.

package golang

import (
	"fmt"
	"path/filepath"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/source"
)

// LinePos renders a location of p as "file.knhk:line" with files (the
// program's sources by file index), as the comments of the generated
// code cite them: only the file's base name when its source or the
// location is unknown, "?" when the file is too.
func LinePos(p *ir.Program, files map[int32]*source.File) func(ir.Loc) string {
	return func(l ir.Loc) string {
		f := files[l.File]
		if f == nil || !l.Known() {
			if l.File >= 0 && int(l.File) < len(p.Files) {
				return filepath.Base(p.Files[l.File].Name)
			}
			return "?"
		}
		return fmt.Sprintf("%s:%d", filepath.Base(f.Name), f.Position(l.Span.Start).Line)
	}
}
