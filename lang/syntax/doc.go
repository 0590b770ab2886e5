// Package syntax turns KNHK source text into a syntax tree.
//
// The grammar for declarations, statements and types is written as
// participle/v2 struct tags on the node types in ast.go; those structs are
// the AST. Expressions are parsed by a hand-written precedence-climbing
// parser (expr.go) plugged into participle with ParseTypeWith, because
// expressions are the hot path and need a depth limit that reflection-driven
// recursion cannot give.
//
// Parse never stops at the first error: it parses one top-level declaration
// at a time and, after a syntax error, resumes at the next declaration
// keyword, so one run reports every broken declaration.
package syntax
