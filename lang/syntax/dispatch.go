// This file implements first-token dispatch between participle parsers.
//
// A participle union tries its members in order, allocating a node and a
// backtracking branch for each one that fails. Statements and declarations
// almost always announce themselves with their first word, so instead of a
// union each kind gets its own participle parser and a table picks the one
// to run. This keeps the grammar in struct tags while making the parser
// several times faster on large files.

package syntax

import (
	"sort"
	"strings"
	"sync"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

type subParser[T any] struct {
	name  string
	parse func(*lexer.PeekingLexer) (T, error)
	ebnf  string
}

func build[G any, T any](name string) subParser[T] {
	p := participle.MustBuild[G](options()...)
	return subParser[T]{
		name: name,
		ebnf: p.String(),
		parse: func(lex *lexer.PeekingLexer) (T, error) {
			v, err := p.ParseFromLexer(lex, participle.AllowTrailing(true))
			var zero T
			if err != nil {
				return zero, err
			}
			return any(v).(T), nil
		},
	}
}

func options() []participle.Option {
	return []participle.Option{
		participle.Lexer(definition{}),
		participle.ParseTypeWith(parseExpr),
		participle.ParseTypeWith(parseStmt),
		participle.ParseTypeWith(parseFlowItem),
		participle.UseLookahead(2),
	}
}

// hand wraps a hand-written parser; its EBNF is the rule called name in
// declGrammar, stmtGrammar or returnGrammar.
func hand[T any](name string, parse func(*lexer.PeekingLexer) (T, error)) subParser[T] {
	return subParser[T]{name: name, parse: parse, ebnf: handRule(name)}
}

// handRule returns the documented EBNF rule for a hand-written production.
func handRule(name string) string {
	for _, g := range []string{declGrammar, stmtGrammar, returnGrammar} {
		for _, line := range strings.Split(g, "\n") {
			if strings.HasPrefix(line, name+" = ") {
				return line
			}
		}
	}
	panic("syntax: no EBNF documented for hand-written production " + name)
}

type tables struct {
	top   map[string]subParser[TopDecl]
	stmt  map[string]subParser[Stmt]
	block subParser[Stmt]
	expr  subParser[Stmt]
	step  subParser[FlowItem]
	arc   subParser[FlowItem]
}

var (
	tablesOnce sync.Once
	tbl        *tables
)

// parsers returns the dispatch tables. Declarations and the common
// statements are parsed by hand (parse_decl.go, parse_stmt.go); the rest
// are participle productions.
func parsers() *tables {
	tablesOnce.Do(func() {
		let := hand("LetStmt", parseLetStmt)
		t := &tables{
			top: map[string]subParser[TopDecl]{
				"package":  build[PackageDecl, TopDecl]("PackageDecl"),
				"import":   build[ImportDecl, TopDecl]("ImportDecl"),
				"type":     hand("TypeDecl", parseTypeDecl),
				"fn":       hand("FnDecl", parseFnDecl),
				"task":     hand("TaskDecl", parseTaskDecl),
				"kernel":   hand("KernelDecl", parseKernelDecl),
				"workflow": hand("WorkflowDecl", parseWorkflowDecl),
			},
			stmt: map[string]subParser[Stmt]{
				"let":        let,
				"var":        let,
				"guard":      hand("GuardStmt", parseGuardStmt),
				"fail":       hand("FailStmt", parseFailStmt),
				"return":     hand("ReturnStmt", parseReturnStmt),
				"parallel":   build[ParallelStmt, Stmt]("ParallelStmt"),
				"choose":     build[ChooseStmt, Stmt]("ChooseStmt"),
				"multi":      build[MultiStmt, Stmt]("MultiStmt"),
				"if":         hand("IfStmt", parseIfStmt),
				"for":        hand("ForStmt", parseForStmt),
				"while":      build[WhileStmt, Stmt]("WhileStmt"),
				"break":      build[BranchStmt, Stmt]("BranchStmt"),
				"continue":   build[BranchStmt, Stmt]("BranchStmt"),
				"select":     build[SelectStmt, Stmt]("SelectStmt"),
				"cancel":     build[CancelStmt, Stmt]("CancelStmt"),
				"region":     build[RegionStmt, Stmt]("RegionStmt"),
				"critical":   build[CriticalStmt, Stmt]("CriticalStmt"),
				"interleave": build[InterleaveStmt, Stmt]("InterleaveStmt"),
				"milestone":  build[MilestoneStmt, Stmt]("MilestoneStmt"),
				"flow":       build[FlowStmt, Stmt]("FlowStmt"),
				"route":      build[RouteStmt, Stmt]("RouteStmt"),
				"hook":       build[HookStmt, Stmt]("HookStmt"),
				"signal":     build[SignalDecl, Stmt]("SignalDecl"),
				"query":      build[QueryDecl, Stmt]("QueryDecl"),
				"send":       sendParser(),
			},
			block: hand("BlockStmt", parseBlockStmt),
			expr:  hand("ExprStmt", parseExprStmt),
			step:  build[Step, FlowItem]("Step"),
			arc:   build[Arc, FlowItem]("Arc"),
		}
		tbl = t
	})
	return tbl
}

// blockGrammar documents Block.Parse; Grammar appends it.
const blockGrammar = `Block = "{" Stmt* "}" .`

// Parse implements participle.Parseable.
func (b *Block) Parse(lex *lexer.PeekingLexer) error {
	t := lex.Peek()
	if t.Type != TokPunct || t.Value != "{" {
		return participle.NextMatch
	}
	lex.Next()
	b.Pos = t.Pos
	for {
		n := lex.Peek()
		if n.Type == TokPunct && n.Value == "}" {
			lex.Next()
			b.EndPos = lex.Peek().Pos
			return nil
		}
		s, err := parseStmt(lex)
		if err == participle.NextMatch {
			return &participle.UnexpectedTokenError{Unexpected: *n, Expect: "a statement or \"}\""}
		}
		if err != nil {
			return err
		}
		b.Stmts = append(b.Stmts, s)
	}
}

// parseTopDecl parses one top-level declaration.
func parseTopDecl(lex *lexer.PeekingLexer) (TopDecl, error) {
	t := lex.Peek()
	if t.Type == TokKeyword {
		if p, ok := parsers().top[t.Value]; ok {
			return p.parse(lex)
		}
	}
	return nil, participle.Errorf(t.Pos, "expected a declaration (package, import, type, fn, task, kernel or workflow), found %s", describe(t))
}

// parseStmt picks a statement parser from the first token. A contextual
// word followed by "=" or "." is a variable, not a statement keyword.
func parseStmt(lex *lexer.PeekingLexer) (Stmt, error) {
	tb := parsers()
	t := lex.Peek()
	switch t.Type {
	case TokKeyword:
		if p, ok := tb.stmt[t.Value]; ok {
			return p.parse(lex)
		}
		if startsExpr(t) {
			return tb.expr.parse(lex)
		}
		return nil, participle.NextMatch
	case TokIdent:
		if p, ok := tb.stmt[t.Value]; ok && !isContinuation(lex) {
			return p.parse(lex)
		}
	case TokPunct:
		if t.Value == "{" {
			return tb.block.parse(lex)
		}
	}
	if !startsExpr(t) {
		return nil, participle.NextMatch
	}
	return tb.expr.parse(lex)
}

// isContinuation reports whether the token after the next one continues an
// expression ("x = ...", "x.f", "x(...)" for words whose statement never has
// a parenthesis next).
func isContinuation(lex *lexer.PeekingLexer) bool {
	cp := lex.MakeCheckpoint()
	lex.Next()
	n := lex.Peek()
	lex.LoadCheckpoint(cp)
	return n.Type == TokPunct && (n.Value == "=" || n.Value == ".")
}

func parseFlowItem(lex *lexer.PeekingLexer) (FlowItem, error) {
	t := lex.Peek()
	tb := parsers()
	if t.Type == TokIdent && t.Value == "step" && !isContinuation(lex) {
		return tb.step.parse(lex)
	}
	if t.Type != TokIdent {
		return nil, participle.NextMatch
	}
	return tb.arc.parse(lex)
}

// Grammar returns the EBNF of the whole language: the productions of every
// participle parser, followed by the hand-written expression grammar.
func Grammar() string {
	tb := parsers()
	seen := map[string]bool{}
	var rules []string
	add := func(ebnf string) {
		for _, line := range strings.Split(ebnf, "\n") {
			name, _, ok := strings.Cut(line, " = ")
			if !ok || seen[name] {
				continue
			}
			seen[name] = true
			rules = append(rules, line)
		}
	}
	add("File = PackageDecl ImportDecl* TopDecl* .")
	add("TopDecl = TypeDecl | FnDecl | TaskDecl | KernelDecl | WorkflowDecl .")
	for _, k := range []string{"package", "import", "type", "fn", "task", "kernel", "workflow"} {
		add(tb.top[k].ebnf)
	}
	var names []string
	byName := map[string]string{}
	for _, p := range tb.stmt {
		if _, dup := byName[p.name]; !dup {
			names = append(names, p.name)
			byName[p.name] = p.ebnf
		}
	}
	sort.Strings(names)
	add("Stmt = " + strings.Join(append(names, "BlockStmt", "ExprStmt"), " | ") + " .")
	for _, n := range names {
		add(byName[n])
	}
	add(tb.block.ebnf)
	add(tb.expr.ebnf)
	add("FlowItem = Step | Arc .")
	add(tb.step.ebnf)
	add(tb.arc.ebnf)
	add(returnGrammar)
	add(joinGrammar)
	add(blockGrammar)
	add(declGrammar)
	add(stmtGrammar)
	add(typeGrammar)
	add(exprGrammar)
	return strings.Join(rules, "\n") + "\n"
}
