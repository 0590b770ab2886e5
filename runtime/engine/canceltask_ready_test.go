// This file tests cancel task on a call that is ready but not started:
// its input arrives in the same step as the cancel, which the engine
// fires first.

package engine

import (
	"context"
	"testing"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/lang/check"
)

// TestCancelTaskReadyCall: the cancel in the first branch and the call of
// b in the second become ready together, and the cancel fires first. The
// call is withdrawn like a running one and its branch goes on, so the
// join all completes; before, its input token was cleared and the case
// waited forever at the join.
func TestCancelTaskReadyCall(t *testing.T) {
	src := `package p

task b() extern
task after() extern

workflow W() {
  parallel {
    cancel task b
    b()
  } join all
  after()
}
`
	pkg, info, diags := check.CheckSource("p.knhk", []byte(src), &check.Config{})
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	prog, ds := compiler.Build(pkg, info)
	if ds.HasErrors() {
		t.Fatalf("the gate rejects it: %v", ds.Err())
	}
	a := &abstract{p: prog}
	log := NewMemLog()
	e, err := New(Config{Program: prog, Eval: a, Worker: a, Log: log, Rounds: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := e.Start(ctx, "c", "W", nil); err != nil {
		t.Fatal(err)
	}
	if err := e.Run(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	s, _ := e.Snapshot("c")
	if s.Status != Completed {
		t.Fatalf("status %s, want completed", s.Status)
	}
	var started []string
	for _, ev := range log.Events("c") {
		if ev.Kind == EvFire && ev.Frame == 0 {
			if tr := prog.Nets[0].Transitions[ev.Trans]; tr.Call != nil {
				started = append(started, tr.Name)
			}
		}
	}
	if len(started) != 1 || started[0] != "after_11" {
		t.Errorf("calls started %v, want only after_11", started)
	}
}
