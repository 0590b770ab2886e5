// This file implements the entry points that read, parse and check.

package check

import (
	"os"

	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// Load reads, parses and checks the file at path and everything it
// imports. The diagnostics include those of parsing.
func Load(path string, cfg *Config) (*Package, *Info, source.Diagnostics) {
	if cfg == nil {
		cfg = &Config{}
	}
	read := cfg.ReadFile
	if read == nil {
		read = os.ReadFile
	}
	b, err := read(path)
	if err != nil {
		return nil, NewInfo(), source.Diagnostics{{Severity: source.Error, Code: source.BadFile, Message: err.Error()}}
	}
	return CheckSource(path, b, cfg)
}

// CheckSource parses content as the file at path and checks it. The
// diagnostics of both phases are returned sorted by file and position.
func CheckSource(path string, content []byte, cfg *Config) (*Package, *Info, source.Diagnostics) {
	f, diags := syntax.Parse(path, content)
	pkg, info, more := Check(f, cfg)
	all := append(diags, more...)
	all.Sort()
	return pkg, info, all
}
