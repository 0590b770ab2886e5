// This file implements the send statement: a signal raised from inside a
// workflow, to the running case itself or to another case by id (a BPMN
// throw event, Temporal's SignalExternalWorkflow).

package syntax

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// sendGrammar documents parseSendStmt; Grammar lists it with the other
// statements.
const sendGrammar = `SendStmt = "send" Name ("." Name)? ("(" (Expr ("," Expr)* ","?)? ")")? ("to" Expr)? .`

// SendStmt is "send S(args)" (to the running case) or "send S(args) to
// id" / "send W.S(args) to id" (to case id, which runs workflow W; without
// W, the sender's own workflow). The parentheses may be left out for a
// signal without parameters.
type SendStmt struct {
	Node
	// Workflow names the target case's workflow, nil when not written.
	Workflow *Name
	Signal   *Name
	Args     []Expr
	// Paren records that the argument list was written, empty or not,
	// so that the formatter keeps "send S()" as written.
	Paren bool
	// To is the target case id, nil for the running case.
	To Expr
}

func (*SendStmt) stmt() {}

// sendParser is the dispatch entry for "send". The word is contextual: a
// call of a task named send, "send(x)", is an expression statement, and
// only "send" followed by a name starts a send statement.
func sendParser() subParser[Stmt] {
	return subParser[Stmt]{name: "SendStmt", ebnf: sendGrammar, parse: parseSendStmt}
}

func parseSendStmt(lex *lexer.PeekingLexer) (Stmt, error) {
	cp := lex.MakeCheckpoint()
	lex.Next()
	next := lex.Peek()
	lex.LoadCheckpoint(cp)
	if next.Type != TokIdent {
		return parsers().expr.parse(lex)
	}
	s := &SendStmt{}
	begin(&s.Node, lex)
	lex.Next() // "send"
	var err error
	if s.Signal, err = parseName(lex, "a signal name"); err != nil {
		return nil, err
	}
	if isPunct(lex.Peek(), ".") {
		lex.Next()
		s.Workflow = s.Signal
		if s.Signal, err = parseName(lex, "a signal name after the workflow"); err != nil {
			return nil, err
		}
	}
	if isPunct(lex.Peek(), "(") {
		lex.Next()
		s.Paren = true
		for !isPunct(lex.Peek(), ")") {
			a, err := parseExprReq(lex)
			if err != nil {
				return nil, err
			}
			s.Args = append(s.Args, a)
			if !isPunct(lex.Peek(), ",") {
				break
			}
			lex.Next()
		}
		if err := want(lex, ")"); err != nil {
			return nil, err
		}
	}
	if isWord(lex.Peek(), "to") {
		lex.Next()
		if s.To, err = parseExprReq(lex); err != nil {
			return nil, err
		}
	} else if t := lex.Peek(); t.Type == TokPunct && t.Value == "." {
		return nil, participle.Errorf(t.Pos, "a send names at most a workflow and its signal (W.S)")
	}
	finish(&s.Node, lex)
	return s, nil
}
