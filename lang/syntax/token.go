// This file implements the token kinds and keyword tables.

package syntax

import "github.com/alecthomas/participle/v2/lexer"

// Token kinds produced by the lexer. Comments are not tokens: the lexer
// collects them on the side for the formatter and the language server.
const (
	TokEOF      lexer.TokenType = lexer.EOF
	TokIdent    lexer.TokenType = -(iota + 2)
	TokKeyword                  // reserved word
	TokInt                      // 42, 1_000
	TokFloat                    // 1.5, 2e10
	TokString                   // "text"
	TokDuration                 // 200ms, 1h30m
	TokTime                     // @2026-11-27T10:00:00Z
	TokPunct                    // operators and delimiters
)

// symbols names the token kinds for participle. It is a function, not a
// variable, so the parser built at package init never sees it unset.
func symbols() map[string]lexer.TokenType {
	return map[string]lexer.TokenType{
		"EOF":      TokEOF,
		"Ident":    TokIdent,
		"Keyword":  TokKeyword,
		"Int":      TokInt,
		"Float":    TokFloat,
		"String":   TokString,
		"Duration": TokDuration,
		"Time":     TokTime,
		"Punct":    TokPunct,
	}
}

// keywords are reserved: they can never be identifiers. They are kept few.
// Every other construct word (parallel, choose, select, region, signal,
// all, limit, retry, exec, step, ...) is contextual: the lexer returns it as
// an identifier and the grammar matches its text, so a record may still
// have a field named "region" or "signal".
var keywords = map[string]bool{
	"package": true, "import": true, "type": true, "fn": true, "task": true,
	"kernel": true, "workflow": true, "let": true, "var": true, "else": true,
	"if": true, "for": true, "in": true, "while": true, "return": true,
	"true": true, "false": true, "none": true, "break": true, "continue": true,
}

// IsKeyword reports whether s is a reserved word.
func IsKeyword(s string) bool { return keywords[s] }

// Keywords returns the reserved words, for editors and completion.
func Keywords() []string {
	out := make([]string, 0, len(keywords))
	for k := range keywords {
		out = append(out, k)
	}
	return out
}

// durationUnits are the units a duration literal may use, longest first
// where one is a prefix of another.
var durationUnits = []string{"ns", "us", "ms", "h", "m", "s", "d"}
