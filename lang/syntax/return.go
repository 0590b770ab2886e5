// This file implements the return statement, which participle cannot
// express: its value must start on the same line as the keyword, so that a
// bare "return" followed by a call on the next line is not misread as
// "return call(...)".

package syntax

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// returnGrammar documents ReturnStmt.Parse; Grammar appends it. The value,
// when present, starts on the same line as "return".
const returnGrammar = `ReturnStmt = "return" Expr? .`

// ReturnStmt is "return" or "return expr".
type ReturnStmt struct {
	Node
	Value Expr
}

// Parse implements participle.Parseable.
func (r *ReturnStmt) Parse(lex *lexer.PeekingLexer) error {
	t := lex.Peek()
	if t.Type != TokKeyword || t.Value != "return" {
		return participle.NextMatch
	}
	lex.Next()
	r.Pos = t.Pos
	if n := lex.Peek(); n.Pos.Line == t.Pos.Line && startsExpr(n) {
		v, err := parseExpr(lex)
		if err != nil {
			return err
		}
		r.Value = v
	}
	r.EndPos = lex.Peek().Pos
	return nil
}

func parseReturnStmt(lex *lexer.PeekingLexer) (Stmt, error) {
	r := &ReturnStmt{}
	if err := r.Parse(lex); err != nil {
		return nil, err
	}
	return r, nil
}
