// This file implements the tests of shared variables: a parallel for body
// that assigns a variable of its workflow shares it through the multiple
// instance transition's Bind, which the verifier checks.

package compiler

import (
	"strings"
	"testing"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
)

const sharedSrc = `package sh

task ask(who: string) -> [string] exec "./ask"

workflow Collect(people: [string], tag: string) -> [string] {
  var notes: [string] = []
  for p in people parallel {
    let got = ask(p + tag)
    notes = notes + got
  }
  return notes
}
`

func lowerSource(t *testing.T, src string) *ir.Program {
	t.Helper()
	pkg, info, diags := check.CheckSource("in.knhk", []byte(src), nil)
	if diags.HasErrors() {
		t.Fatalf("does not check:\n%s", diagText(diags))
	}
	prog, ld := Lower(pkg, info)
	if ld.HasErrors() {
		t.Fatalf("lowering:\n%s", diagText(ld))
	}
	if err := prog.Verify(); err != nil {
		t.Fatalf("does not verify: %v", err)
	}
	return prog
}

func multiOf(t *testing.T, n *ir.Net) *ir.Transition {
	t.Helper()
	for _, tr := range n.Transitions {
		if tr.Kind == ir.TMulti {
			return tr
		}
	}
	t.Fatalf("no multiple-instance transition in %s", n.Name)
	return nil
}

func TestSharedVariable(t *testing.T) {
	prog := lowerSource(t, sharedSrc)
	n := prog.Net("Collect")
	tr := multiOf(t, n)
	body := prog.Nets[tr.Call.Target]
	// The body reads tag and notes; it assigns only notes.
	if len(tr.Call.Args) != 2 || len(tr.Bind) != 2 {
		t.Fatalf("args %d, bind %v; want 2 of each", len(tr.Call.Args), tr.Bind)
	}
	for k, v := range tr.Bind {
		name := body.Params[k+1].Name
		switch {
		case name == "notes" && (v < 0 || n.Vars[v].Name != "notes"):
			t.Errorf("notes is not shared: bind[%d] = %d", k, v)
		case name == "tag" && v != -1:
			t.Errorf("tag, which the body only reads, is shared: bind[%d] = %d", k, v)
		}
	}
	if !strings.Contains(prog.String(), " shares v2:notes") {
		t.Errorf("the printer does not show the shared variable")
	}

	// The verifier rejects a Bind of the wrong length or type.
	saved := tr.Bind
	tr.Bind = []int32{-1}
	if err := prog.Verify(); err == nil || !strings.Contains(err.Error(), "shares 1 variables for 2 body arguments") {
		t.Errorf("short bind: %v", err)
	}
	tr.Bind = []int32{0, 0} // v0 people: [string] is not tag: string
	if err := prog.Verify(); err == nil || !strings.Contains(err.Error(), "shares variable v0") {
		t.Errorf("mistyped bind: %v", err)
	}
	tr.Bind = saved
	if err := prog.Verify(); err != nil {
		t.Errorf("restored: %v", err)
	}
}

// TestReadOnlyBodyHasNoBind checks that a body that assigns nothing of
// its workflow receives everything by value.
func TestReadOnlyBodyHasNoBind(t *testing.T) {
	prog := lowerSource(t, strings.Replace(sharedSrc, "notes = notes + got", "ask(got[0])", 1))
	if tr := multiOf(t, prog.Net("Collect")); tr.Bind != nil {
		t.Errorf("bind %v, want none", tr.Bind)
	}
}
