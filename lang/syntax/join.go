// This file implements the join clause of parallel, parallel for and flow
// arcs. It is hand-written because its trailing "keep" must stand on the
// join's own line: "} join any" followed by a call keep(x) on the next
// line is a join and a statement, not "join any keep".

package syntax

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// joinGrammar documents Join.Parse; Grammar appends it. "keep", when
// present, is on the same line as "join".
const joinGrammar = `Join = "join" ("all" | "any" | "active" | Expr) "keep"? .`

// Join says how concurrent branches merge: all of them, any (the first to
// finish), N of them, or, on a flow arc, the active ones (a synchronising
// merge: every input that can still be reached). With any or N the
// branches not waited for are cancelled, unless Keep lets them finish.
type Join struct {
	Node
	Kind  string // "all", "any" or "active"; empty when Count is set
	Count Expr
	Keep  bool
}

// Parse implements participle.Parseable.
func (j *Join) Parse(lex *lexer.PeekingLexer) error {
	t := lex.Peek()
	if !isWord(t, "join") {
		return participle.NextMatch
	}
	lex.Next()
	j.Pos = t.Pos
	switch n := lex.Peek(); {
	case isWord(n, "all") || isWord(n, "any") || isWord(n, "active"):
		lex.Next()
		j.Kind = n.Value
	default:
		c, err := parseExprReq(lex)
		if err != nil {
			return err
		}
		j.Count = c
	}
	if n := lex.Peek(); isWord(n, "keep") && n.Pos.Line == t.Pos.Line {
		lex.Next()
		j.Keep = true
	}
	j.EndPos = lex.Peek().Pos
	return nil
}

// parseJoin parses an optional Join.
func parseJoin(lex *lexer.PeekingLexer) (*Join, error) {
	if !isWord(lex.Peek(), "join") {
		return nil, nil
	}
	j := &Join{}
	if err := j.Parse(lex); err != nil {
		return nil, err
	}
	return j, nil
}
