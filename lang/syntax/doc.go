// Package syntax turns KNHK source text into a syntax tree.
//
// The scanner (lexer.go) produces every token once; the parser reads them
// in place through participle's PeekingLexer (peek.go). The grammar is
// split between participle/v2 and hand-written recursive descent:
//
//   - participle struct tags (ast.go, stmt.go) define the package and
//     import clauses and the less frequent statements: parallel, choose,
//     multi, select, while, break/continue, cancel, region, critical,
//     interleave, milestone, flow, route, hook, signal and query;
//   - the hot productions are parsed by hand and plugged into participle
//     as Parseable types or through first-token dispatch (dispatch.go):
//     declarations, parameters, bindings and clauses (parse_decl.go), the
//     common statements let/var, assignments and calls, guard, fail, if,
//     for and blocks (parse_stmt.go, return.go), types (parse_type.go) and
//     expressions (parse_expr.go, a precedence-climbing parser with a depth
//     limit that reflection-driven recursion cannot give).
//
// Each hand-written file documents its productions in an EBNF constant, and
// [Grammar] prints participle's rules and those constants together; the
// repository's grammar.ebnf is that output, kept in step by a test.
//
// Parse never stops at the first error: it parses one top-level declaration
// at a time and, after a syntax error, resumes at the next declaration
// keyword, so one run reports every broken declaration.
package syntax
