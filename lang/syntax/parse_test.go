// This file tests the parser: exact spans, recovery after syntax errors,
// depth limits, reserved versus contextual words, and the hand-off of
// tokens to participle.

package syntax

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/knhk/knhk/lang/source"
)

func mustParse(t *testing.T, src string) *File {
	t.Helper()
	f, diags := Parse("t.knhk", []byte(src))
	for _, d := range diags {
		t.Errorf("unexpected diagnostic: %v", d)
	}
	if f.Package == nil {
		t.Fatal("no package clause")
	}
	return f
}

func text(f *File, n source.Spanned) string {
	sp := n.Span()
	return string(f.Source.Content[sp.Start:sp.End])
}

func decl[T Decl](t *testing.T, f *File, name string) T {
	t.Helper()
	for _, d := range f.Decls {
		if d.DeclName().Value == name {
			if v, ok := d.(T); ok {
				return v
			}
		}
	}
	var zero T
	t.Fatalf("no declaration %s of type %T", name, zero)
	return zero
}

const spanSrc = `package orders // trailing comment

type Item = { sku: string, qty: int }   // comment after

fn total(o: [Item]) -> float = sum(o, i => float(i.qty)) /* block */

task charge(amount: float) -> string http POST "http://x/charge" retry 3 timeout 5s
task pack(i: Item) exec "./pack" "--fast"

workflow W(o: [Item], n: int) -> string {
  let r = charge(1.5) retry 2   // why
  var k: int = n + 1
  k = k * 2
  guard k > 0 else fail "neg"
  if k > 3 {
    pack(o[0])
  } else if k > 2 {
    pack(o[1])
  } else {
    fail "small"
  }
  for x in o parallel limit 4 {
    pack(x)
  } join all
  parallel {
    pack(o[0])
  } join any
  return r
}
`

func TestSpansExact(t *testing.T) {
	f := mustParse(t, spanSrc)
	if got := text(f, f.Package); got != "package orders" {
		t.Errorf("package span %q", got)
	}
	td := decl[*TypeDecl](t, f, "Item")
	if got := text(f, td); got != "type Item = { sku: string, qty: int }" {
		t.Errorf("type decl span %q", got)
	}
	if got := text(f, td.Type.Record.Fields[1]); got != "qty: int" {
		t.Errorf("field span %q", got)
	}
	fn := decl[*FnDecl](t, f, "total")
	if got := text(f, fn); got != "fn total(o: [Item]) -> float = sum(o, i => float(i.qty))" {
		t.Errorf("fn span %q", got)
	}
	if got := text(f, fn.Params[0]); got != "o: [Item]" {
		t.Errorf("param span %q", got)
	}
	if got := text(f, fn.Result); got != "float" {
		t.Errorf("result span %q", got)
	}
	task := decl[*TaskDecl](t, f, "charge")
	if got := text(f, task); got != `task charge(amount: float) -> string http POST "http://x/charge" retry 3 timeout 5s` {
		t.Errorf("task span %q", got)
	}
	if got := text(f, task.Binding); got != `http POST "http://x/charge"` {
		t.Errorf("binding span %q", got)
	}
	if len(task.Clauses) != 2 || text(f, task.Clauses[1]) != "timeout 5s" {
		t.Errorf("clauses %v", task.Clauses)
	}
	pack := decl[*TaskDecl](t, f, "pack")
	if pack.Binding.Kind() != "exec" || len(pack.Binding.Exec) != 2 || text(f, pack.Binding.Exec[1]) != `"--fast"` {
		t.Errorf("exec binding %+v", pack.Binding)
	}
	w := decl[*WorkflowDecl](t, f, "W")
	if got := text(f, w); !strings.HasPrefix(got, "workflow W(") || !strings.HasSuffix(got, "return r\n}") {
		t.Errorf("workflow span %q", got)
	}
	want := []string{
		"let r = charge(1.5) retry 2",
		"var k: int = n + 1",
		"k = k * 2",
		`guard k > 0 else fail "neg"`,
		"if k > 3 {\n    pack(o[0])\n  } else if k > 2 {\n    pack(o[1])\n  } else {\n    fail \"small\"\n  }",
		"for x in o parallel limit 4 {\n    pack(x)\n  } join all",
		"parallel {\n    pack(o[0])\n  } join any",
		"return r",
	}
	stmts := w.Body.Stmts
	if len(stmts) != len(want) {
		t.Fatalf("got %d statements, want %d", len(stmts), len(want))
	}
	for i, s := range stmts {
		if got := text(f, s); got != want[i] {
			t.Errorf("statement %d: span %q, want %q", i, got, want[i])
		}
	}
	ifs := stmts[4].(*IfStmt)
	if ifs.ElseIf == nil || ifs.ElseIf.Else == nil || !strings.HasPrefix(text(f, ifs.ElseIf), "if k > 2 {") {
		t.Errorf("else-if chain not parsed: %+v", ifs)
	}
	let := stmts[0].(*LetStmt)
	if let.Keyword != "let" || let.Name.Value != "r" || text(f, let.Value) != "charge(1.5)" || len(let.Clauses) != 1 {
		t.Errorf("let %+v", let)
	}
	fs := stmts[5].(*ForStmt)
	if !fs.Parallel || text(f, fs.Limit) != "4" || fs.Join == nil || fs.Join.Kind != "all" {
		t.Errorf("for %+v", fs)
	}
}

// TestSpansNest checks on a larger program that every node's span lies in
// the file and inside its parent's.
func TestSpansNest(t *testing.T) {
	f := mustParse(t, spanSrc)
	var stack []source.Span
	n := 0
	Inspect(f, func(x any) bool {
		if x == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		sp := f.Span()
		if s, ok := x.(source.Spanned); ok {
			sp = s.Span()
		}
		if sp.Start < 0 || sp.End > source.Pos(len(spanSrc)) || sp.Start > sp.End {
			t.Errorf("%T: span %v outside the file", x, sp)
		}
		if len(stack) > 0 {
			if p := stack[len(stack)-1]; sp.Start < p.Start || sp.End > p.End {
				t.Errorf("%T %q: span %v outside its parent %v", x, spanSrc[sp.Start:sp.End], sp, p)
			}
		}
		stack = append(stack, sp)
		n++
		return true
	})
	if n < 100 {
		t.Errorf("visited only %d nodes", n)
	}
}

func TestRecoverySeveralErrors(t *testing.T) {
	src := `package p

fn ok1(x: int) -> int = x
fn bad1(x int) -> int = x
type T = { a: int }
task bad2(x: int) -> int
workflow ok2() {
  let y = 1
}
workflow bad3() {
  let = 3
}
fn ok3() -> int = 1
`
	f, diags := Parse("t.knhk", []byte(src))
	var lines []int
	for _, d := range diags {
		if d.Code != source.SyntaxError {
			t.Errorf("code %v for %v", d.Code, d)
		}
		lines = append(lines, f.Source.Position(d.Span.Start).Line)
	}
	if fmt.Sprint(lines) != "[4 7 11]" {
		t.Errorf("errors on lines %v, want [4 7 11]: %v", lines, diags)
	}
	var names []string
	for _, d := range f.Decls {
		names = append(names, d.DeclName().Value)
	}
	if got := strings.Join(names, " "); got != "ok1 T ok2 ok3" {
		t.Errorf("declarations kept: %s", got)
	}
}

func TestErrorMessages(t *testing.T) {
	tests := []struct{ src, want string }{
		{"fn f(x int) -> int = x", `2:8: unexpected "int", expected ":"`},
		{"fn f(x: int) -> int x", `2:21: unexpected "x", expected "="`},
		{"task t(x: int) -> int", `3:1: unexpected end of file, expected a binding (exec, http, std, queue or extern)`},
		{`task t(x: int) -> int queue billing`, `2:29: unexpected "billing", expected the queue name as a string such as "billing"`},
		{"type = int", `2:6: unexpected "=", expected a type name`},
		{"workflow w() {\n let x 3\n}", `3:8: unexpected "3", expected "="`},
		{"workflow w() {\n x = \n}", `4:1: unexpected "}", expected an expression`},
		{"workflow w() {\n for in xs { }\n}", `3:6: expected a loop variable, found reserved word "in"`},
		{"workflow w() {\n if x { } else y\n}", `3:16: unexpected "y", expected "if" or a block "{ ... }" after else`},
		{"workflow w(a: int,, b: int) {\n}", `2:19: unexpected ",", expected a parameter "name: Type" or ")"`},
		{"workflow w() -> int {\n return x +\n}", `4:1: expected an expression, found "}"`},
	}
	for _, tt := range tests {
		_, diags := Parse("t.knhk", []byte("package p\n"+tt.src+"\n"))
		if len(diags) != 1 {
			t.Errorf("%q: want one diagnostic, got %v", tt.src, diags)
			continue
		}
		if got := diags[0].Error(); got != "t.knhk:"+tt.want {
			t.Errorf("%q:\n got  %s\n want t.knhk:%s", tt.src, got, tt.want)
		}
		if m := diags[0].Message; m != strings.ToLower(m[:1])+m[1:] || strings.HasSuffix(m, ".") {
			t.Errorf("message style: %q", m)
		}
	}
}

func TestTooDeep(t *testing.T) {
	const n = 10000
	tests := map[string]string{
		"parens": "package p\nfn f() -> int = " + strings.Repeat("(", n) + "1" + strings.Repeat(")", n) + "\n",
		"unary":  "package p\nfn f() -> int = " + strings.Repeat("-", n) + "1\n",
		"types":  "package p\ntype T = " + strings.Repeat("[", n) + "int" + strings.Repeat("]", n) + "\n",
		"blocks": "package p\nworkflow w() " + strings.Repeat("{ ", n) + strings.Repeat("} ", n) + "\n",
		"open":   "package p\nfn f() -> int = " + strings.Repeat("(", n) + "\n",
	}
	for name, src := range tests {
		f, diags := Parse("t.knhk", []byte(src))
		if f == nil || len(diags) == 0 {
			t.Errorf("%s: no diagnostic", name)
			continue
		}
		d := diags[0]
		if len(diags) != 1 || d.Code != source.TooDeep || !strings.Contains(d.Message, "nested more than 500 levels") {
			t.Errorf("%s: want one TooDeep diagnostic, got %v", name, diags)
		}
		// It points where the limit is crossed, not at the innermost bracket.
		if open := strings.Count(src[:d.Span.Start], "(") + strings.Count(src[:d.Span.Start], "[") + strings.Count(src[:d.Span.Start], "{") + strings.Count(src[:d.Span.Start], "-"); open < MaxNesting || open > MaxNesting+3 { // +2 for "f()" and "->"
			t.Errorf("%s: diagnostic after %d openers, want about %d", name, open, MaxNesting)
		}
	}
	// Within the limit parses fine.
	mustParse(t, "package p\nfn f() -> int = "+strings.Repeat("(", 100)+"1"+strings.Repeat(")", 100)+"\n")
}

func TestLongElseIfChain(t *testing.T) {
	var b strings.Builder
	b.WriteString("package p\nworkflow w(x: int) {\n  if x == 0 {\n  }")
	for i := 1; i < 20000; i++ {
		fmt.Fprintf(&b, " else if x == %d {\n  }", i)
	}
	b.WriteString("\n}\n")
	f := mustParse(t, b.String())
	n := 0
	for s := decl[*WorkflowDecl](t, f, "w").Body.Stmts[0].(*IfStmt); s != nil; s = s.ElseIf {
		n++
	}
	if n != 20000 {
		t.Errorf("chain of %d ifs, want 20000", n)
	}
}

func TestContextualWords(t *testing.T) {
	src := `package p

type Order = { region: string, signal: int, limit: int }

workflow w(o: Order) {
  let limit = 3
  let parallel = o.region
  var region = o.signal + limit
  region = 4
  f(o)
  retry = 2
  parallel {
    g(o.limit)
  }
  return
  h(region)
}
`
	f := mustParse(t, src)
	stmts := decl[*WorkflowDecl](t, f, "w").Body.Stmts
	kinds := make([]string, len(stmts))
	for i, s := range stmts {
		kinds[i] = fmt.Sprintf("%T", s)
	}
	want := "[*syntax.LetStmt *syntax.LetStmt *syntax.LetStmt *syntax.ExprStmt *syntax.ExprStmt *syntax.ExprStmt *syntax.ParallelStmt *syntax.ReturnStmt *syntax.ExprStmt]"
	if got := fmt.Sprint(kinds); got != want {
		t.Errorf("statements\n got  %s\n want %s", got, want)
	}
	if e := stmts[3].(*ExprStmt); len(e.Clauses) != 0 {
		t.Errorf("f(o) took clauses %v", e.Clauses)
	}
	if r := stmts[7].(*ReturnStmt); r.Value != nil {
		t.Errorf("return took the next line's call as its value")
	}
	sel := stmts[1].(*LetStmt).Value.(*SelectorExpr)
	if sel.Sel.Name != "region" {
		t.Errorf("selector %q", sel.Sel.Name)
	}

	// Reserved words cannot be names.
	for _, bad := range []string{"let in = 3", "let return = 1", "var if = 2"} {
		_, diags := Parse("t.knhk", []byte("package p\nworkflow w() {\n  "+bad+"\n}\n"))
		if len(diags) != 1 || !strings.Contains(diags[0].Message, "reserved word") {
			t.Errorf("%q: %v", bad, diags)
		}
	}
	if !IsKeyword("let") || IsKeyword("limit") || IsKeyword("region") {
		t.Error("IsKeyword disagrees with the language reference")
	}
}

func TestMaxFileSize(t *testing.T) {
	big := make([]byte, MaxFileSize+1)
	for i := range big {
		big[i] = ' '
	}
	_, diags := Parse("big.knhk", big)
	if len(diags) != 1 || diags[0].Code != source.BadFile {
		t.Fatalf("got %v", diags)
	}
}

// TestTokenStream checks the token stream participle reads.
func TestTokenStream(t *testing.T) {
	s := scan(source.NewFile("t.knhk", []byte("package p\nfn f() -> int = 1\n")))
	p, err := lexer.Upgrade(&sliceLexer{tokens: s.tokens})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for !p.Peek().EOF() {
		got = append(got, p.Next().Value)
	}
	if s := strings.Join(got, " "); s != "package p fn f ( ) -> int = 1" {
		t.Errorf("tokens %q", s)
	}
}

// TestGrammarComplete checks that every production Grammar mentions is
// defined, so the hand-written parts are all documented.
func TestGrammarComplete(t *testing.T) {
	g := Grammar()
	defined := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(g), "\n") {
		name, rhs, ok := strings.Cut(line, " = ")
		if !ok || !strings.HasSuffix(rhs, " .") {
			t.Errorf("malformed rule %q", line)
			continue
		}
		if defined[name] {
			t.Errorf("rule %s defined twice", name)
		}
		defined[name] = true
	}
	quoted := regexp.MustCompile(`"[^"]*"|<[a-z]+>`)
	ident := regexp.MustCompile(`\b[A-Z][A-Za-z]*\b`)
	for _, line := range strings.Split(strings.TrimSpace(g), "\n") {
		name, rhs, _ := strings.Cut(line, " = ")
		for _, ref := range ident.FindAllString(quoted.ReplaceAllString(rhs, ""), -1) {
			if !defined[ref] {
				t.Errorf("%s refers to undefined production %s", name, ref)
			}
		}
	}
	for _, p := range []string{"Name", "Param", "Params", "Clause", "Binding", "TaskDecl", "LetStmt", "ExprStmt"} {
		if !defined[p] {
			t.Errorf("no rule for %s", p)
		}
	}
}

// FuzzParse checks invariants on arbitrary input: no panic, every
// diagnostic and every node span lies inside the file, and a file without
// errors has a package clause.
func FuzzParse(f *testing.F) {
	f.Add(spanSrc)
	f.Add("package p\nworkflow w() { choose { when x -> f() else -> {} } select { on timer 1s -> g() } }\n")
	f.Add("package p\nfn f() -> int = ((1 + 2) * [1, 2][0]) ?? 3\n")
	f.Add("package p\ntask t() exec\n let = (\n")
	f.Fuzz(func(t *testing.T, src string) {
		file, diags := Parse("f.knhk", []byte(src))
		if file == nil {
			t.Fatal("nil file")
		}
		for _, d := range diags {
			if d.Span.Start < 0 || d.Span.End > source.Pos(len(src)) || d.Span.Start > d.Span.End {
				t.Fatalf("diagnostic span %v outside the file: %v", d.Span, d)
			}
		}
		if !diags.HasErrors() && file.Package == nil {
			t.Fatal("no errors but no package clause")
		}
		Inspect(file, func(x any) bool {
			if s, ok := x.(source.Spanned); ok {
				if sp := s.Span(); sp.Start < 0 || sp.End > source.Pos(len(src)) || sp.Start > sp.End {
					t.Fatalf("%T: span %v outside the file", x, sp)
				}
			}
			return true
		})
	})
}

// TestParseConcurrent parses from several goroutines at once: the language
// server and the checker do, and the parser tables are shared.
func TestParseConcurrent(t *testing.T) {
	errs := make(chan string, 8)
	for range 8 {
		go func() {
			f, diags := Parse("t.knhk", []byte(spanSrc))
			errs <- fmt.Sprint(len(f.Decls), len(diags))
		}()
	}
	for range 8 {
		if got := <-errs; got != "5 0" {
			t.Errorf("decls, diagnostics = %s, want 5 0", got)
		}
	}
}

// TestPunctLen checks the scanner's operator switch against the operator
// list: every operator is matched whole, longest first.
func TestPunctLen(t *testing.T) {
	for _, p := range puncts {
		for _, next := range []string{"", "x", " ", "1"} {
			if got := punctLen([]byte(p + next)); got != len(p) {
				t.Errorf("punctLen(%q) = %d, want %d", p+next, got, len(p))
			}
		}
	}
	for _, bad := range []string{"&", "|", "&x", "|=", "#", "$", "^", "~", "'", ";", "\\"} {
		if got := punctLen([]byte(bad)); got != 0 {
			t.Errorf("punctLen(%q) = %d, want 0", bad, got)
		}
	}
}

// TestTimeLiteralEnds checks that a time literal stops where the time does:
// before a map colon, a range or a selector.
func TestTimeLiteralEnds(t *testing.T) {
	for src, want := range map[string][]string{
		"@2026-01-02T15:04:05Z: 1":      {"@2026-01-02T15:04:05Z", ":", "1"},
		"@2026-01-02T15:04:05Z..x":      {"@2026-01-02T15:04:05Z", "..", "x"},
		"@2026-01-02T15:04:05.5+01:00.": {"@2026-01-02T15:04:05.5+01:00", "."},
		"@2026-01-02":                   {"@2026-01-02"},
	} {
		s := scan(source.NewFile("t.knhk", []byte(src)))
		var got []string
		for _, tok := range s.tokens {
			if !tok.EOF() {
				got = append(got, tok.Value)
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("scan(%q) = %q, want %q", src, got, want)
		}
	}
}
