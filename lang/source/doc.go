// Package source holds what every phase of KNHK shares about source text:
// files, byte-offset positions and spans, and the one [Diagnostic] type that
// the parser, checker, compiler, runtime and language server all report.
//
// Byte offsets are the truth. Line and column are computed only when a
// position is printed, and UTF-16 columns only inside the language server,
// as go/token and gopls do.
package source
