// This file implements the precedence-climbing expression parser that
// participle calls for every Expr field.

package syntax

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
	"github.com/knhk/knhk/lang/source"
)

// MaxNesting bounds how deeply brackets and expressions may nest. Deeper
// input is rejected with a diagnostic rather than risking the stack.
const MaxNesting = 500

// binaryPrec gives the precedence of each binary operator; higher binds
// tighter. Comparisons and the range operator do not associate.
var binaryPrec = map[string]int{
	"??": 1,
	"||": 2,
	"&&": 3,
	"==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
	"..": 5,
	"+":  6, "-": 6,
	"*": 7, "/": 7, "%": 7,
}

type exprParser struct {
	lex   *lexer.PeekingLexer
	depth int
}

// parseExpr is registered with participle.ParseTypeWith.
func parseExpr(lex *lexer.PeekingLexer) (Expr, error) {
	if !startsExpr(lex.Peek()) {
		return nil, participle.NextMatch
	}
	p := exprParser{lex: lex}
	return p.binary(1)
}

func startsExpr(t *lexer.Token) bool {
	switch t.Type {
	case TokIdent, TokInt, TokFloat, TokString, TokDuration, TokTime:
		return true
	case TokKeyword:
		switch t.Value {
		case "true", "false", "none":
			return true
		}
	case TokPunct:
		switch t.Value {
		case "(", "[", "{", "-", "!":
			return true
		}
	}
	return false
}

func (p *exprParser) errorf(t *lexer.Token, format string, args ...any) error {
	return participle.Errorf(t.Pos, format, args...)
}

func (p *exprParser) peekIs(v string) bool {
	t := p.lex.Peek()
	return t.Type == TokPunct && t.Value == v
}

func (p *exprParser) expect(v string) (*lexer.Token, error) {
	t := p.lex.Peek()
	if t.Type != TokPunct || t.Value != v {
		return nil, p.errorf(t, "expected %q, found %s", v, describe(t))
	}
	return p.lex.Next(), nil
}

func describe(t *lexer.Token) string {
	if t.EOF() {
		return "end of file"
	}
	return "\"" + t.Value + "\""
}

func pos(t *lexer.Token) source.Pos { return source.Pos(t.Pos.Offset) }

func (p *exprParser) enter(t *lexer.Token) error {
	p.depth++
	if p.depth > MaxNesting {
		return tooDeep(t.Pos, "expression nested more than %d levels deep", MaxNesting)
	}
	return nil
}

func (p *exprParser) binary(minPrec int) (Expr, error) {
	x, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.lex.Peek()
		if t.Type != TokPunct {
			return x, nil
		}
		prec, ok := binaryPrec[t.Value]
		if !ok || prec < minPrec {
			return x, nil
		}
		op := p.lex.Next()
		next := prec + 1
		if op.Value == "??" {
			next = prec // right-associative
		}
		if err := p.enter(op); err != nil {
			return nil, err
		}
		y, err := p.binary(next)
		p.depth--
		if err != nil {
			return nil, err
		}
		x = &BinaryExpr{X: x, OpPos: pos(op), Op: op.Value, Y: y}
		if prec == 4 || prec == 5 {
			if n := p.lex.Peek(); n.Type == TokPunct && binaryPrec[n.Value] == prec {
				return nil, p.errorf(n, "%s cannot follow %s without parentheses", n.Value, op.Value)
			}
		}
	}
}

func (p *exprParser) unary() (Expr, error) {
	t := p.lex.Peek()
	if t.Type == TokPunct && (t.Value == "-" || t.Value == "!") {
		p.lex.Next()
		if err := p.enter(t); err != nil {
			return nil, err
		}
		x, err := p.unary()
		p.depth--
		if err != nil {
			return nil, err
		}
		return &UnaryExpr{OpPos: pos(t), Op: t.Value, X: x}, nil
	}
	return p.postfix()
}

func (p *exprParser) postfix() (Expr, error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.lex.Peek()
		if t.Type != TokPunct {
			return x, nil
		}
		switch t.Value {
		case ".":
			p.lex.Next()
			n := p.lex.Peek()
			if n.Type != TokIdent && n.Type != TokKeyword {
				return nil, p.errorf(n, "expected a field name after '.', found %s", describe(n))
			}
			p.lex.Next()
			x = &SelectorExpr{X: x, Sel: &Ident{NamePos: pos(n), Name: n.Value}}
		case "[":
			p.lex.Next()
			idx, err := p.sub(t)
			if err != nil {
				return nil, err
			}
			r, err := p.expect("]")
			if err != nil {
				return nil, err
			}
			x = &IndexExpr{X: x, Index: idx, Rbrack: pos(r)}
		case "(":
			p.lex.Next()
			args, r, err := p.list(t, ")")
			if err != nil {
				return nil, err
			}
			x = &CallExpr{Fun: x, Lparen: pos(t), Args: args, Rparen: pos(r)}
		default:
			return x, nil
		}
	}
}

// sub parses a nested full expression, counting depth.
func (p *exprParser) sub(open *lexer.Token) (Expr, error) {
	if err := p.enter(open); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	if !startsExpr(p.lex.Peek()) {
		return nil, p.errorf(p.lex.Peek(), "expected an expression, found %s", describe(p.lex.Peek()))
	}
	return p.binary(1)
}

// list parses "a, b, c" up to the closing delimiter, allowing a trailing
// comma, and consumes the delimiter.
func (p *exprParser) list(open *lexer.Token, close string) ([]Expr, *lexer.Token, error) {
	var out []Expr
	for !p.peekIs(close) {
		x, err := p.sub(open)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, x)
		if !p.peekIs(",") {
			break
		}
		p.lex.Next()
	}
	r, err := p.expect(close)
	return out, r, err
}

func (p *exprParser) primary() (Expr, error) {
	t := p.lex.Peek()
	switch t.Type {
	case TokIdent:
		p.lex.Next()
		if n := p.lex.Peek(); t.Value == "milestone" && n.Type == TokIdent {
			p.lex.Next()
			return &MilestoneExpr{KwPos: pos(t), Name: &Ident{NamePos: pos(n), Name: n.Value}}, nil
		}
		if p.peekIs("=>") {
			p.lex.Next()
			body, err := p.sub(t)
			if err != nil {
				return nil, err
			}
			return &LambdaExpr{Params: []*Ident{{NamePos: pos(t), Name: t.Value}}, Lparen: source.NoPos, Body: body}, nil
		}
		return &Ident{NamePos: pos(t), Name: t.Value}, nil
	case TokInt, TokFloat, TokString, TokDuration, TokTime:
		p.lex.Next()
		kind := IntLit
		switch t.Type {
		case TokFloat:
			kind = FloatLit
		case TokString:
			kind = StringLitKind
		case TokDuration:
			kind = DurationLit
		case TokTime:
			kind = TimeLit
		}
		return &BasicLit{ValuePos: pos(t), Kind: kind, Value: t.Value}, nil
	case TokKeyword:
		switch t.Value {
		case "true", "false":
			p.lex.Next()
			return &BasicLit{ValuePos: pos(t), Kind: BoolLit, Value: t.Value}, nil
		case "none":
			p.lex.Next()
			return &BasicLit{ValuePos: pos(t), Kind: NoneLit, Value: t.Value}, nil
		}
	case TokPunct:
		switch t.Value {
		case "(":
			if lam, ok, err := p.tryLambda(); ok || err != nil {
				return lam, err
			}
			p.lex.Next()
			x, err := p.sub(t)
			if err != nil {
				return nil, err
			}
			r, err := p.expect(")")
			if err != nil {
				return nil, err
			}
			return &ParenExpr{Lparen: pos(t), X: x, Rparen: pos(r)}, nil
		case "[":
			return p.listOrMap()
		case "{":
			return p.record()
		}
	}
	return nil, p.errorf(t, "expected an expression, found %s", describe(t))
}

// tryLambda parses (a, b) => body, or reports ok=false and consumes nothing.
func (p *exprParser) tryLambda() (Expr, bool, error) {
	cp := p.lex.MakeCheckpoint()
	open := p.lex.Next()
	var params []*Ident
	for {
		t := p.lex.Peek()
		if t.Type == TokIdent {
			p.lex.Next()
			params = append(params, &Ident{NamePos: pos(t), Name: t.Value})
			if p.peekIs(",") {
				p.lex.Next()
				continue
			}
		}
		break
	}
	if !p.peekIs(")") {
		p.lex.LoadCheckpoint(cp)
		return nil, false, nil
	}
	p.lex.Next()
	if !p.peekIs("=>") {
		p.lex.LoadCheckpoint(cp)
		return nil, false, nil
	}
	p.lex.Next()
	body, err := p.sub(open)
	if err != nil {
		return nil, true, err
	}
	if len(params) == 0 {
		return nil, true, p.errorf(open, "a lambda needs at least one parameter")
	}
	return &LambdaExpr{Params: params, Lparen: pos(open), Body: body}, true, nil
}

func (p *exprParser) listOrMap() (Expr, error) {
	open := p.lex.Next()
	if p.peekIs(":") { // [:] is the empty map
		p.lex.Next()
		r, err := p.expect("]")
		if err != nil {
			return nil, err
		}
		return &MapLit{Lbrack: pos(open), Rbrack: pos(r)}, nil
	}
	if p.peekIs("]") {
		r := p.lex.Next()
		return &ListLit{Lbrack: pos(open), Rbrack: pos(r)}, nil
	}
	first, err := p.sub(open)
	if err != nil {
		return nil, err
	}
	if !p.peekIs(":") {
		elems := []Expr{first}
		if p.peekIs(",") {
			p.lex.Next()
			rest, r, err := p.list(open, "]")
			if err != nil {
				return nil, err
			}
			return &ListLit{Lbrack: pos(open), Elems: append(elems, rest...), Rbrack: pos(r)}, nil
		}
		r, err := p.expect("]")
		if err != nil {
			return nil, err
		}
		return &ListLit{Lbrack: pos(open), Elems: elems, Rbrack: pos(r)}, nil
	}
	m := &MapLit{Lbrack: pos(open)}
	key := first
	for {
		if _, err := p.expect(":"); err != nil {
			return nil, err
		}
		v, err := p.sub(open)
		if err != nil {
			return nil, err
		}
		m.Keys = append(m.Keys, key)
		m.Values = append(m.Values, v)
		if !p.peekIs(",") {
			break
		}
		p.lex.Next()
		if p.peekIs("]") {
			break
		}
		if key, err = p.sub(open); err != nil {
			return nil, err
		}
	}
	r, err := p.expect("]")
	if err != nil {
		return nil, err
	}
	m.Rbrack = pos(r)
	return m, nil
}

func (p *exprParser) record() (Expr, error) {
	open := p.lex.Next()
	rec := &RecordLit{Lbrace: pos(open)}
	for !p.peekIs("}") {
		n := p.lex.Peek()
		if n.Type != TokIdent {
			return nil, p.errorf(n, "expected a field name in record literal, found %s", describe(n))
		}
		p.lex.Next()
		if _, err := p.expect(":"); err != nil {
			return nil, err
		}
		v, err := p.sub(open)
		if err != nil {
			return nil, err
		}
		rec.Fields = append(rec.Fields, &FieldInit{Name: &Ident{NamePos: pos(n), Name: n.Value}, Value: v})
		if !p.peekIs(",") {
			break
		}
		p.lex.Next()
	}
	r, err := p.expect("}")
	if err != nil {
		return nil, err
	}
	rec.Rbrace = pos(r)
	return rec, nil
}

// exprGrammar documents the hand-written expression parser in the same
// EBNF dialect participle prints; Grammar appends it.
const exprGrammar = `Expr = Unary (BinaryOp Unary)* .
BinaryOp = "??" | "||" | "&&" | "==" | "!=" | "<" | "<=" | ">" | ">=" | ".." | "+" | "-" | "*" | "/" | "%" .
Unary = ("-" | "!")* Postfix .
Postfix = Primary ("." (<ident> | <keyword>) | "[" Expr "]" | "(" (Expr ("," Expr)* ","?)? ")")* .
Primary = <ident> | <int> | <float> | <string> | <duration> | <time> | "true" | "false" | "none" | "(" Expr ")" | ListLit | MapLit | RecordLit | Lambda | Milestone .
ListLit = "[" (Expr ("," Expr)* ","?)? "]" .
MapLit = "[" ":" "]" | "[" Expr ":" Expr ("," Expr ":" Expr)* ","? "]" .
RecordLit = "{" (<ident> ":" Expr ("," <ident> ":" Expr)* ","?)? "}" .
Lambda = <ident> "=>" Expr | "(" <ident> ("," <ident>)* ")" "=>" Expr .
Milestone = "milestone" <ident> .`
