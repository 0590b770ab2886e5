// This file implements access to the embedded sources of the std modules.

// Package stdlib holds the standard modules of KNHK as .knhk source files
// embedded in the binary, so that `import "std/http"` needs no file system.
// The checker reads them through [Source]; the runtime implements the tasks
// they bind with `std "module.name"`.
package stdlib

import (
	"embed"
	"sort"
	"strings"
)

//go:embed std/*.knhk
var files embed.FS

// Prefix is the import-path prefix of every standard module.
const Prefix = "std/"

// Source returns the source text of the standard module with the given
// import path, such as "std/http". ok is false when there is no such module.
func Source(path string) (src []byte, ok bool) {
	name, found := strings.CutPrefix(path, Prefix)
	if !found || name == "" || strings.ContainsAny(name, "/\\.") {
		return nil, false
	}
	b, err := files.ReadFile("std/" + name + ".knhk")
	if err != nil {
		return nil, false
	}
	return b, true
}

// Modules returns the import paths of every standard module, sorted.
func Modules() []string {
	ents, _ := files.ReadDir("std")
	out := make([]string, 0, len(ents))
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".knhk"); ok {
			out = append(out, Prefix+n)
		}
	}
	sort.Strings(out)
	return out
}
