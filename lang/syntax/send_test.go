// This file tests the parsing of send statements, and that the word send
// stays usable as a task name.

package syntax

import (
	"strings"
	"testing"
)

func TestSendParse(t *testing.T) {
	src := `package p
workflow W(id: string) {
  send Go
  send Go()
  send Go(1, "a",)
  send W.Go(2) to id + "x"
  send(3)
  send = 4
}
`
	f, diags := Parse("send.knhk", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	stmts := f.Decls[0].(*WorkflowDecl).Body.Stmts
	want := []struct {
		wf, sig string
		args    int
		paren   bool
		to      bool
	}{
		{"", "Go", 0, false, false},
		{"", "Go", 0, true, false},
		{"", "Go", 2, true, false},
		{"W", "Go", 1, true, true},
	}
	for i, w := range want {
		s, ok := stmts[i].(*SendStmt)
		if !ok {
			t.Fatalf("statement %d is %T, want *SendStmt", i, stmts[i])
		}
		wf := ""
		if s.Workflow != nil {
			wf = s.Workflow.Value
		}
		if wf != w.wf || s.Signal.Value != w.sig || len(s.Args) != w.args || s.Paren != w.paren || (s.To != nil) != w.to {
			t.Errorf("statement %d: %+v, want %+v", i, s, w)
		}
		if sp := s.Span(); string(f.Source.Content[sp.Start:sp.End]) != strings.TrimSpace(strings.Split(src, "\n")[i+2]) {
			t.Errorf("statement %d spans %q", i, f.Source.Content[sp.Start:sp.End])
		}
	}
	// A task called send, and a variable called send, are expressions.
	for i := 4; i < 6; i++ {
		if _, ok := stmts[i].(*ExprStmt); !ok {
			t.Errorf("statement %d is %T, want *ExprStmt", i, stmts[i])
		}
	}
}

func TestSendParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"send W.", "expected a signal name after the workflow"},
		{"send Go(1", `expected ")"`},
		{"send Go to", "expected an expression"},
		{"send W.S.T to x", "a send names at most a workflow and its signal"},
	} {
		_, diags := Parse("e.knhk", []byte("package p\nworkflow W() {\n  "+tc.src+"\n}\n"))
		if !diags.HasErrors() {
			t.Errorf("%q parsed", tc.src)
			continue
		}
		if msg := diags[0].Message; !strings.Contains(msg, tc.want) {
			t.Errorf("%q: %s, want %q", tc.src, msg, tc.want)
		}
	}
}
