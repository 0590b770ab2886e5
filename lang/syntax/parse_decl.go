// This file implements the hand-written parsers for declarations and the
// small productions inside them (names, string literals, parameters,
// bindings, clauses).
//
// Participle builds a reflect.Value per struct, a deferred field setter per
// capture and a backtracking branch per optional group. On declarations,
// which every file is made of, that was most of the parse time, so these
// productions are parsed by hand and documented by the EBNF constants that
// Grammar prints. The remaining participle productions use Name, StringLit,
// Param and Clause through their Parse methods.

package syntax

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// declGrammar documents the hand-written declaration parsers.
const declGrammar = `Name = <ident> .
StringLit = <string> .
Params = "(" (Param ("," Param)* ","?)? ")" .
Param = Name ":" Type .
TypeDecl = "type" Name "=" Type .
FnDecl = "fn" Name Params "->" Type "=" Expr .
TaskDecl = "task" Name Params ("->" Type)? Binding Clause* .
Binding = "exec" StringLit+ | "http" Name StringLit | "std" StringLit | "queue" StringLit | "extern" StringLit? .
Clause = ("retry" | "backoff" | "timeout" | "undo") Expr .
KernelDecl = "kernel" Name Params "->" Type Block .
WorkflowDecl = "workflow" Name Params ("->" Type)? Block .`

// isPunct reports whether t is the operator or delimiter v.
func isPunct(t *lexer.Token, v string) bool { return t.Type == TokPunct && t.Value == v }

// isWord reports whether t is the reserved or contextual word v.
func isWord(t *lexer.Token, v string) bool {
	return (t.Type == TokIdent || t.Type == TokKeyword) && t.Value == v
}

// unexpected reports t where expect was needed; the driver turns it into
// "unexpected T, expected EXPECT".
func unexpected(t *lexer.Token, expect string) error {
	return &participle.UnexpectedTokenError{Unexpected: *t, Expect: expect}
}

// want consumes the punctuation or word v.
func want(lex *lexer.PeekingLexer, v string) error {
	t := lex.Peek()
	if (t.Type == TokPunct || t.Type == TokIdent || t.Type == TokKeyword) && t.Value == v {
		lex.Next()
		return nil
	}
	return unexpected(t, `"`+v+`"`)
}

// begin sets n's start to the next token; finish sets its end after the
// last consumed one (see scanner on tight ends).
func begin(n *Node, lex *lexer.PeekingLexer)  { n.Pos = lex.Peek().Pos }
func finish(n *Node, lex *lexer.PeekingLexer) { n.EndPos = lex.Peek().Pos }

// Parse implements participle.Parseable.
func (n *Name) Parse(lex *lexer.PeekingLexer) error {
	t := lex.Peek()
	if t.Type != TokIdent {
		return participle.NextMatch
	}
	lex.Next()
	n.Pos, n.Value, n.EndPos = t.Pos, t.Value, lex.Peek().Pos
	return nil
}

// parseName parses a required name; what says what it names.
func parseName(lex *lexer.PeekingLexer, what string) (*Name, error) {
	n := &Name{}
	if n.Parse(lex) != nil {
		t := lex.Peek()
		if t.Type == TokKeyword {
			return nil, participle.Errorf(t.Pos, "expected %s, found reserved word %q", what, t.Value)
		}
		return nil, unexpected(t, what)
	}
	return n, nil
}

// Parse implements participle.Parseable.
func (s *StringLit) Parse(lex *lexer.PeekingLexer) error {
	t := lex.Peek()
	if t.Type != TokString {
		return participle.NextMatch
	}
	lex.Next()
	s.Pos, s.Value, s.EndPos = t.Pos, t.Value, lex.Peek().Pos
	return nil
}

func parseString(lex *lexer.PeekingLexer, what string) (*StringLit, error) {
	s := &StringLit{}
	if s.Parse(lex) != nil {
		return nil, unexpected(lex.Peek(), what)
	}
	return s, nil
}

// Parse implements participle.Parseable.
func (p *Param) Parse(lex *lexer.PeekingLexer) error {
	if lex.Peek().Type != TokIdent {
		return participle.NextMatch
	}
	begin(&p.Node, lex)
	p.Name = &Name{}
	p.Name.Parse(lex)
	if err := want(lex, ":"); err != nil {
		return err
	}
	var err error
	if p.Type, err = parseType(lex); err != nil {
		return err
	}
	finish(&p.Node, lex)
	return nil
}

// parseType parses a required type.
func parseType(lex *lexer.PeekingLexer) (*Type, error) {
	t := lex.Peek()
	if !startsType(t) {
		return nil, unexpected(t, "a type")
	}
	out := &Type{}
	return out, (&typeParser{lex: lex}).typ(out)
}

// parseExprReq parses a required expression.
func parseExprReq(lex *lexer.PeekingLexer) (Expr, error) {
	if !startsExpr(lex.Peek()) {
		return nil, unexpected(lex.Peek(), "an expression")
	}
	return parseExpr(lex)
}

// parseParams parses a parenthesised parameter list.
func parseParams(lex *lexer.PeekingLexer) ([]*Param, error) {
	if err := want(lex, "("); err != nil {
		return nil, err
	}
	var out []*Param
	for !isPunct(lex.Peek(), ")") {
		p := &Param{}
		if err := p.Parse(lex); err != nil {
			if err == participle.NextMatch {
				return nil, unexpected(lex.Peek(), `a parameter "name: Type" or ")"`)
			}
			return nil, err
		}
		out = append(out, p)
		if !isPunct(lex.Peek(), ",") {
			break
		}
		lex.Next()
	}
	if t := lex.Peek(); !isPunct(t, ")") {
		return nil, unexpected(t, `"," or ")"`)
	}
	lex.Next()
	return out, nil
}

// isClauseWord reports whether t starts a clause: the word must be followed
// by an expression, so "retry = 3" on the next line is an assignment.
func isClauseWord(t *lexer.Token) bool {
	if t.Type != TokIdent {
		return false
	}
	switch t.Value {
	case "retry", "backoff", "timeout", "undo":
		return true
	}
	return false
}

// Parse implements participle.Parseable.
func (c *Clause) Parse(lex *lexer.PeekingLexer) error {
	t := lex.Peek()
	if !isClauseWord(t) {
		return participle.NextMatch
	}
	cp := lex.MakeCheckpoint()
	lex.Next()
	if !startsExpr(lex.Peek()) {
		lex.LoadCheckpoint(cp)
		return participle.NextMatch
	}
	c.Pos, c.Kind = t.Pos, t.Value
	var err error
	if c.Value, err = parseExpr(lex); err != nil {
		return err
	}
	finish(&c.Node, lex)
	return nil
}

// parseClauses parses Clause*.
func parseClauses(lex *lexer.PeekingLexer) ([]*Clause, error) {
	var out []*Clause
	for isClauseWord(lex.Peek()) {
		c := &Clause{}
		if err := c.Parse(lex); err == participle.NextMatch {
			break
		} else if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Parse implements participle.Parseable.
func (b *Binding) Parse(lex *lexer.PeekingLexer) error {
	t := lex.Peek()
	if t.Type != TokIdent {
		return participle.NextMatch
	}
	var err error
	switch t.Value {
	case "exec":
		begin(&b.Node, lex)
		lex.Next()
		for {
			s := &StringLit{}
			if s.Parse(lex) != nil {
				break
			}
			b.Exec = append(b.Exec, s)
		}
		if len(b.Exec) == 0 {
			return unexpected(lex.Peek(), "the command to run, as one or more strings")
		}
	case "http":
		begin(&b.Node, lex)
		lex.Next()
		if b.Method, err = parseName(lex, "an HTTP method such as POST"); err != nil {
			return err
		}
		if b.URL, err = parseString(lex, "the URL as a string"); err != nil {
			return err
		}
	case "std":
		begin(&b.Node, lex)
		lex.Next()
		if b.Std, err = parseString(lex, `the std task name as a string such as "time.sleep"`); err != nil {
			return err
		}
	case "queue":
		begin(&b.Node, lex)
		lex.Next()
		if b.Queue, err = parseString(lex, `the queue name as a string such as "billing"`); err != nil {
			return err
		}
	case "extern":
		begin(&b.Node, lex)
		lex.Next()
		b.Extern = true
		s := &StringLit{}
		if s.Parse(lex) == nil {
			b.Symbol = s
		}
	default:
		return participle.NextMatch
	}
	finish(&b.Node, lex)
	return nil
}

// declHead parses KEYWORD Name Params for fn, task, kernel and workflow.
func declHead(lex *lexer.PeekingLexer, n *Node, kw, what string) (*Name, []*Param, error) {
	begin(n, lex)
	if err := want(lex, kw); err != nil {
		return nil, nil, err
	}
	name, err := parseName(lex, what)
	if err != nil {
		return nil, nil, err
	}
	params, err := parseParams(lex)
	return name, params, err
}

// optResult parses ("->" Type)?.
func optResult(lex *lexer.PeekingLexer) (*Type, error) {
	if !isPunct(lex.Peek(), "->") {
		return nil, nil
	}
	lex.Next()
	return parseType(lex)
}

func parseTypeDecl(lex *lexer.PeekingLexer) (TopDecl, error) {
	d := &TypeDecl{}
	begin(&d.Node, lex)
	if err := want(lex, "type"); err != nil {
		return nil, err
	}
	var err error
	if d.Name, err = parseName(lex, "a type name"); err != nil {
		return nil, err
	}
	if err := want(lex, "="); err != nil {
		return nil, err
	}
	if d.Type, err = parseType(lex); err != nil {
		return nil, err
	}
	finish(&d.Node, lex)
	return d, nil
}

func parseFnDecl(lex *lexer.PeekingLexer) (TopDecl, error) {
	d := &FnDecl{}
	var err error
	if d.Name, d.Params, err = declHead(lex, &d.Node, "fn", "a function name"); err != nil {
		return nil, err
	}
	if err := want(lex, "->"); err != nil {
		return nil, err
	}
	if d.Result, err = parseType(lex); err != nil {
		return nil, err
	}
	if err := want(lex, "="); err != nil {
		return nil, err
	}
	if d.Body, err = parseExprReq(lex); err != nil {
		return nil, err
	}
	finish(&d.Node, lex)
	return d, nil
}

func parseTaskDecl(lex *lexer.PeekingLexer) (TopDecl, error) {
	d := &TaskDecl{}
	var err error
	if d.Name, d.Params, err = declHead(lex, &d.Node, "task", "a task name"); err != nil {
		return nil, err
	}
	if d.Result, err = optResult(lex); err != nil {
		return nil, err
	}
	d.Binding = &Binding{}
	if err := d.Binding.Parse(lex); err == participle.NextMatch {
		return nil, unexpected(lex.Peek(), "a binding (exec, http, std, queue or extern)")
	} else if err != nil {
		return nil, err
	}
	if d.Clauses, err = parseClauses(lex); err != nil {
		return nil, err
	}
	finish(&d.Node, lex)
	return d, nil
}

func parseKernelDecl(lex *lexer.PeekingLexer) (TopDecl, error) {
	d := &KernelDecl{}
	var err error
	if d.Name, d.Params, err = declHead(lex, &d.Node, "kernel", "a kernel name"); err != nil {
		return nil, err
	}
	if err := want(lex, "->"); err != nil {
		return nil, err
	}
	if d.Result, err = parseType(lex); err != nil {
		return nil, err
	}
	if d.Body, err = parseBlock(lex); err != nil {
		return nil, err
	}
	finish(&d.Node, lex)
	return d, nil
}

func parseWorkflowDecl(lex *lexer.PeekingLexer) (TopDecl, error) {
	d := &WorkflowDecl{}
	var err error
	if d.Name, d.Params, err = declHead(lex, &d.Node, "workflow", "a workflow name"); err != nil {
		return nil, err
	}
	if d.Result, err = optResult(lex); err != nil {
		return nil, err
	}
	if d.Body, err = parseBlock(lex); err != nil {
		return nil, err
	}
	finish(&d.Node, lex)
	return d, nil
}

// parseBlock parses a required block.
func parseBlock(lex *lexer.PeekingLexer) (*Block, error) {
	b := &Block{}
	if err := b.Parse(lex); err == participle.NextMatch {
		return nil, unexpected(lex.Peek(), `a block "{ ... }"`)
	} else if err != nil {
		return nil, err
	}
	return b, nil
}
