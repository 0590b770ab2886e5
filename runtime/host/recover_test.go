// This file tests that a case evaluated through the Evaluator survives a
// restart: its values go through the durable store and come back typed.

package host

import (
	"context"
	"testing"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/store"
)

func TestRecoverFromStore(t *testing.T) {
	p := compile(t, `package t
type Order = { id: string, lines: [string: int] }
task price(sku: string) -> float exec "price"
workflow W(o: Order) -> string {
  let each = price(o.id)
  select {
    on signal Go(by: string) -> { return o.id + " " + string(each * float(len(o.lines))) + " by " + by }
  }
}
`)
	dir := t.TempDir()
	ctx := context.Background()
	newEngine := func(st *store.Store) *engine.Engine {
		eng, err := engine.New(engine.Config{Program: p, Eval: &Evaluator{}, Worker: fakeWorker{}, Log: engine.StoreLog{Store: st}, Rounds: true})
		if err != nil {
			t.Fatal(err)
		}
		return eng
	}
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := eval.FromJSON(p, p.Net("W").Params[0].Type, []byte(`{"id":"abc","lines":{"x":1,"y":2}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := newEngine(st).Start(ctx, "c", "W", []any{v}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil { // the process "crashes" here
		t.Fatal(err)
	}

	st, err = store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng := newEngine(st)
	if err := eng.Recover(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if err := eng.Signal(ctx, "c", "Go", []any{"ann"}); err != nil {
		t.Fatal(err)
	}
	s, err := eng.Snapshot("c")
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != engine.Completed || s.Result != eval.Str("abc 6 by ann") {
		t.Fatalf("status %v result %#v error %q", s.Status, s.Result, s.Error)
	}
	if _, err := FromEngine(p, s.Result, p.Net("W").Result); err != nil || p.Net("W").Result != ir.String {
		t.Fatalf("result type: %v", err)
	}
}
