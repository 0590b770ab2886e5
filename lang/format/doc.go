// Package format prints KNHK syntax trees in the one canonical layout that
// `knhk fmt` writes. Like gofmt it has no options.
//
// Entry points: [Source] formats a parsed file; [Bytes] parses and then
// formats, and refuses (nil output, the diagnostics) when the source has
// syntax errors, so broken code is never rewritten.
//
// # Layout
//
//   - Indentation is two spaces per level; continuation lines (a task's
//     binding and clauses, a long fn body, the line after a // comment in
//     the middle of an expression) are indented one level more.
//   - The package clause, then the imports, then the declarations, in
//     source order. Blank lines between declarations, between statements
//     and between list elements are kept, but a run of them becomes one;
//     a blank line never follows an opening bracket or precedes a closing
//     one.
//   - One statement per line. A non-empty block always spans lines; an
//     empty block without comments is {}.
//   - Spaces around binary operators, except the range operator, which is
//     written tight (0..n). A space after commas and colons, none inside
//     parentheses and square brackets, one inside braces: { a: 1 }.
//   - Records (types and literals), enums, list and map literals and route
//     candidates stay on one line when they fit in 80 columns and hold no
//     comment; otherwise they get one element per line, each followed by a
//     comma. Parameter lists and call arguments break the same way when
//     they hold a comment; a call that is a whole statement, or the whole
//     value of a let, step, query, return or fn, also breaks when it would
//     pass column 80.
//   - A task declaration that would pass column 80 puts its binding on a
//     continuation line and its clauses on another. A fn whose body would
//     pass column 80 puts the body on a continuation line, unless the body
//     is a call or a literal that breaks by itself.
//   - The arms of choose, multi and select are one per line, with their
//     arrows aligned across consecutive arms, as gofmt aligns struct
//     fields. A blank line, a comment, or an arm whose body spans lines
//     ends a run of aligned arms.
//   - The tree is printed as it is: parentheses are ParenExpr nodes and are
//     kept, so no precedence rules are needed. Words the tree does not
//     record are normalised: "signal S persistent" and "signal S()" print
//     as "signal S", trailing commas on one line are dropped.
//
// # Comments
//
// Every comment in File.Comments is printed exactly once, in source order,
// interleaved with the tokens by offset as go/printer does. A comment that
// followed code on its line stays at the end of the line where that code
// is printed; a comment on a line of its own stays on a line of its own
// before the next token, at that token's indentation. A // comment is
// always followed by a line break, even in the middle of an expression:
// newlines are not significant in KNHK (except that a return value starts
// on the return's line, which the printer never changes), so the break is
// safe. Line comments lose trailing blanks; block comments are printed
// verbatim.
//
// # Guarantees
//
// Checked by the golden tests, by TestCommentsAnywhere and by FuzzParse:
// formatting is idempotent, the output parses without errors to the same
// tree (positions aside), and the comments are the same, in the same
// order.
package format
