// This file tests the hooks of a sub-workflow: they run in the frame of
// the call, with its variables, beside the hooks of the case's own
// workflow, and survive recovery.

package host

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

// notes returns each call's first argument, and records the notes.
type notes struct {
	mu  sync.Mutex
	got []string
}

func (w *notes) Invoke(_ context.Context, inv engine.Invocation) (eval.Value, error) {
	if inv.Task.Name == "note" {
		w.mu.Lock()
		w.got = append(w.got, inv.Args[0].AsString())
		w.mu.Unlock()
	}
	if len(inv.Args) > 0 {
		return inv.Args[0], nil
	}
	return eval.Value{}, nil
}

const subHooksSrc = `package t
task note(msg: string) extern
task work(n: int) -> int extern

workflow Child(n: int) -> int {
  signal Ping
  signal Go
  var seen = 0
  hook started on start -> note("child start")
  hook worked on complete work when n > 1 -> note("child work")
  hook pinged on signal Ping -> {
    seen = seen + 1
  }
  hook ended on end when seen > 0 -> note("child end")
  let r = work(n)
  select {
    on signal Go -> {}
  }
  return r + seen
}

workflow Parent() -> int {
  signal Ping
  signal Go
  hook noticed on complete work -> note("parent saw work")
  let a = Child(2)
  return a
}
`

func TestSubWorkflowHooks(t *testing.T) {
	for _, rounds := range []bool{true, false} {
		subWorkflowHooks(t, rounds)
	}
}

func subWorkflowHooks(t *testing.T, rounds bool) {
	p := compile(t, subHooksSrc)
	ctx := context.Background()
	w := &notes{}
	log := engine.NewMemLog()
	e, err := engine.New(engine.Config{Program: p, Eval: &Evaluator{}, Worker: w, Log: log, Rounds: rounds})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(ctx, "c", "Parent", nil); err != nil {
		t.Fatal(err)
	}
	if err := e.Signal(ctx, "c", "Ping", nil); err != nil {
		t.Fatal(err)
	}
	if err := e.Signal(ctx, "c", "Go", nil); err != nil {
		t.Fatal(err)
	}
	s, _ := e.Snapshot("c")
	if s.Status != engine.Completed || s.Result != eval.Int(3) {
		t.Fatalf("status %s result %v (%s); want completed with 3 (work 2 plus one ping seen by the child's hook)", s.Status, s.Result, s.Error)
	}
	want := []string{"child start", "child work", "parent saw work", "child end"}
	got := slices.Clone(w.got)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) || len(s.HookErrors) > 0 {
		t.Errorf("notes %q, hook errors %q; want %q", w.got, s.HookErrors, want)
	}

	// Replaying the log rebuilds the same state.
	e2, err := engine.New(engine.Config{Program: p, Eval: &Evaluator{}, Worker: w, Log: log, Rounds: true, SnapshotEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := e2.Recover(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if s2, _ := e2.Snapshot("c"); !reflect.DeepEqual(s, s2) {
		t.Errorf("recovered state differs:\n got %+v\nwant %+v", s2, s)
	}
}

// TestSubWorkflowEndHookCondition: an end hook whose condition is false
// lets the sub-workflow complete without its action.
func TestSubWorkflowEndHookCondition(t *testing.T) {
	p := compile(t, subHooksSrc)
	ctx := context.Background()
	w := &notes{}
	e, err := engine.New(engine.Config{Program: p, Eval: &Evaluator{}, Worker: w, Log: engine.NewMemLog(), Rounds: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(ctx, "c", "Parent", nil); err != nil {
		t.Fatal(err)
	}
	if err := e.Signal(ctx, "c", "Go", nil); err != nil {
		t.Fatal(err)
	}
	s, _ := e.Snapshot("c")
	if s.Status != engine.Completed || s.Result != eval.Int(2) || slices.Contains(w.got, "child end") {
		t.Errorf("status %s result %v notes %q; want completed with 2 and no end note", s.Status, s.Result, w.got)
	}
}
