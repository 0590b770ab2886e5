// This file tests CheckGate, the rule knhk check and the language server
// share: what the compiler cannot lower yet is a warning there, and an
// error for Gate (knhk run).

package compiler

import (
	"strings"
	"testing"

	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
)

func TestCheckGateWarnsWhereLoweringStops(t *testing.T) {
	const src = `package p

fn three() -> int = 3

task a() -> int extern retry three()

workflow W() -> int {
  let x = a()
  return x
}
`
	pkg, info, diags := check.CheckSource("in.knhk", []byte(src), &check.Config{})
	if diags.HasErrors() {
		t.Fatalf("does not check: %v", diags)
	}
	_, ran := Gate(pkg, info, nil)
	b, checked := CheckGate(pkg, info, nil)
	if !ran.HasErrors() || len(ran) != len(checked) {
		t.Fatalf("Gate: %v; CheckGate: %v; want the same diagnostics, errors for Gate", ran, checked)
	}
	if b.Program != nil || checked.HasErrors() {
		t.Fatalf("CheckGate: program %v, diagnostics %v; want no program and only warnings", b.Program != nil, checked)
	}
	for i, d := range checked {
		if d.Severity != source.Warning || d.Code != source.NotImplemented ||
			d.Message != "soundness not checked: "+ran[i].Message || d.Span != ran[i].Span ||
			!strings.Contains(d.Message, "retry count that is not a constant") {
			t.Errorf("diagnostic %d: %v (%s), want Gate's %v as a warning", i, d, d.Severity, ran[i])
		}
		if ran[i].Severity != source.Error {
			t.Errorf("CheckGate changed Gate's diagnostic %d: %v", i, ran[i])
		}
	}
}

// TestCheckGateKeepsSoundnessErrors: a program that lowers keeps Gate's
// verdict; only a program that cannot be lowered is excused.
func TestCheckGateKeepsSoundnessErrors(t *testing.T) {
	const src = `package p

task draft(id: string) -> bool extern
task legal(id: string) extern
task brand(id: string) extern
task publish(id: string) extern

workflow Release(id: string) {
  flow {
    step d = draft(id)
    step l = legal(id)
    step b = brand(id)
    step p = publish(id)
    start -> d
    d -> l when d
    d -> b when !d
    l, b -> p join all
    p -> end
  }
}
`
	pkg, info, diags := check.CheckSource("in.knhk", []byte(src), &check.Config{})
	if diags.HasErrors() {
		t.Fatalf("does not check: %v", diags)
	}
	_, ran := Gate(pkg, info, nil)
	b, checked := CheckGate(pkg, info, nil)
	if b.Program == nil || !ran.HasErrors() || len(checked) != len(ran) {
		t.Fatalf("CheckGate: program %v, %v; want Gate's errors %v", b.Program != nil, checked, ran)
	}
	for i := range ran {
		if checked[i].Severity != source.Error || checked[i].Code != source.Unsound || checked[i].Error() != ran[i].Error() {
			t.Errorf("diagnostic %d: %v, want Gate's %v", i, checked[i], ran[i])
		}
	}
}
