// Package check resolves names and type-checks KNHK programs.
//
// Like go/types, the checker never mutates the syntax tree: everything it
// learns goes into side tables in [Info], keyed by syntax node, which the
// compiler and the language server read. It reports every error it finds
// in one run, recovering from each one, and never reports a cascade: an
// expression whose type is invalid (because of an error already reported)
// produces no further errors.
//
// Entry points: [Load] reads a file, [CheckSource] parses content, [Check]
// checks a parsed file. Each also loads, parses and checks what the file
// imports: std modules from package stdlib and relative .knhk files
// through [Config.ReadFile]; the imported files' diagnostics are included
// and their nodes are recorded in the same Info.
//
// One file per concept: check.go (driver, errors), imports.go, decl.go
// (top-level declarations), typexpr.go (type expressions and type
// declarations), predicates.go (identity, assignability), expr.go,
// literal.go, call.go, builtin.go, stmt.go (statements and reachability),
// workflow.go (workflow-only statements and labels), flow.go, kernel.go,
// task.go (bindings and clauses), recursion.go, suggest.go (did you mean),
// scope.go and universe.go.
//
// Numeric literals are untyped constants, as in Go: an int literal takes
// the type of any numeric context (float, f32, i32, u32) and a float
// literal that of float or f32; with no context they are int and float, or
// i32 and f32 inside kernels.
package check
