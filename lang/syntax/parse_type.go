// This file implements the hand-written type parser.

package syntax

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// typeGrammar documents Parse below; Grammar appends it.
const typeGrammar = `Type = (ListType | RecordType | EnumType | NamedType) "?"? .
ListType = "[" Type (":" Type)? "]" .
RecordType = "{" (Param ("," Param)* ","?)? "}" .
EnumType = "enum" "{" Name ("," Name)* ","? "}" .
NamedType = Name ("." Name)? .`

// Parse implements participle.Parseable.
func (t *Type) Parse(lex *lexer.PeekingLexer) error {
	if !startsType(lex.Peek()) {
		return participle.NextMatch
	}
	return (&typeParser{lex: lex}).typ(t)
}

func startsType(t *lexer.Token) bool {
	return t.Type == TokIdent || t.Type == TokPunct && (t.Value == "[" || t.Value == "{")
}

type typeParser struct {
	lex   *lexer.PeekingLexer
	depth int
}

func (p *typeParser) expect(v string) (*lexer.Token, error) {
	t := p.lex.Peek()
	if t.Type != TokPunct || t.Value != v {
		return nil, participle.Errorf(t.Pos, "expected %q in type, found %s", v, describe(t))
	}
	return p.lex.Next(), nil
}

func (p *typeParser) is(v string) bool {
	t := p.lex.Peek()
	return t.Type == TokPunct && t.Value == v
}

func (p *typeParser) name() (*Name, error) {
	t := p.lex.Peek()
	if t.Type != TokIdent {
		return nil, participle.Errorf(t.Pos, "expected a name, found %s", describe(t))
	}
	p.lex.Next()
	return &Name{Node: Node{Pos: t.Pos, EndPos: p.lex.Peek().Pos}, Value: t.Value}, nil
}

func (p *typeParser) sub() (*Type, error) {
	p.depth++
	defer func() { p.depth-- }()
	t := p.lex.Peek()
	if p.depth > MaxNesting {
		return nil, tooDeep(t.Pos, "type nested more than %d levels deep", MaxNesting)
	}
	if !startsType(t) {
		return nil, participle.Errorf(t.Pos, "expected a type, found %s", describe(t))
	}
	out := &Type{}
	return out, p.typ(out)
}

func (p *typeParser) typ(out *Type) error {
	first := p.lex.Peek()
	out.Pos = first.Pos
	switch {
	case first.Type == TokPunct && first.Value == "[":
		p.lex.Next()
		lt := &ListType{Node: Node{Pos: first.Pos}}
		var err error
		if lt.Elem, err = p.sub(); err != nil {
			return err
		}
		if p.is(":") {
			p.lex.Next()
			if lt.Value, err = p.sub(); err != nil {
				return err
			}
		}
		if _, err := p.expect("]"); err != nil {
			return err
		}
		lt.EndPos = p.lex.Peek().Pos
		out.List = lt
	case first.Type == TokPunct && first.Value == "{":
		p.lex.Next()
		rt := &RecordType{Node: Node{Pos: first.Pos}}
		for !p.is("}") {
			start := p.lex.Peek().Pos
			n, err := p.name()
			if err != nil {
				return err
			}
			if _, err := p.expect(":"); err != nil {
				return err
			}
			ft, err := p.sub()
			if err != nil {
				return err
			}
			rt.Fields = append(rt.Fields, &Param{Node: Node{Pos: start, EndPos: p.lex.Peek().Pos}, Name: n, Type: ft})
			if !p.is(",") {
				break
			}
			p.lex.Next()
		}
		if _, err := p.expect("}"); err != nil {
			return err
		}
		rt.EndPos = p.lex.Peek().Pos
		out.Record = rt
	case first.Value == "enum" && p.peek2Is("{"):
		p.lex.Next()
		p.lex.Next()
		et := &EnumType{Node: Node{Pos: first.Pos}}
		for {
			n, err := p.name()
			if err != nil {
				return err
			}
			et.Members = append(et.Members, n)
			if !p.is(",") {
				break
			}
			p.lex.Next()
			if p.is("}") {
				break
			}
		}
		if _, err := p.expect("}"); err != nil {
			return err
		}
		et.EndPos = p.lex.Peek().Pos
		out.Enum = et
	default:
		n, err := p.name()
		if err != nil {
			return err
		}
		nt := &NamedType{Node: Node{Pos: first.Pos}, Parts: []*Name{n}}
		if p.is(".") {
			p.lex.Next()
			m, err := p.name()
			if err != nil {
				return err
			}
			nt.Parts = append(nt.Parts, m)
		}
		nt.EndPos = p.lex.Peek().Pos
		out.Named = nt
	}
	if p.is("?") {
		p.lex.Next()
		out.Optional = true
	}
	out.EndPos = p.lex.Peek().Pos
	return nil
}

func (p *typeParser) peek2Is(v string) bool {
	cp := p.lex.MakeCheckpoint()
	p.lex.Next()
	ok := p.is(v)
	p.lex.LoadCheckpoint(cp)
	return ok
}
