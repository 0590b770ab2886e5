// Package check resolves names and type-checks KNHK programs.
//
// Like go/types, the checker never mutates the syntax tree: everything it
// learns goes into side tables in [Info], keyed by syntax node, which the
// compiler and the language server read. It reports every error it finds
// in one run, recovering from each one.
package check
