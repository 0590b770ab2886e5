package caseio

import (
	"context"
	"strings"
	"testing"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/host"
)

const src = `package p

type Order = { id: string, cents: int }

workflow One(o: Order) -> string {
  var stage = "waiting"
  query stage -> string = stage
  select {
    on signal Approve(by: string) -> { return o.id + " by " + by }
    on signal Stop() -> { return "stopped" }
  }
}

workflow Two(a: int, b: string?) -> int {
  return a
}
`

func program(t *testing.T) *ir.Program {
	t.Helper()
	pkg, info, ds := check.CheckSource("p.knhk", []byte(src), &check.Config{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	b, ds := compiler.Gate(pkg, info, nil)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	return b.Program
}

func TestDecode(t *testing.T) {
	p := program(t)
	one, two := p.Net("One"), p.Net("Two")
	for _, c := range []struct {
		net  *ir.Net
		in   string
		want string // error text, "" for success
	}{
		{one, `{"id":"o-1","cents":5}`, ""},
		{one, `{"id":"o-1"}`, "cents"},
		{one, `{"id":"o-1","cents":"5"}`, "cents"},
		{two, `{"a":1}`, ""},
		{two, `{"a":1,"c":2}`, "c"},
		{two, `{}`, "a"},
	} {
		_, err := DecodeInput(p, c.net, []byte(c.in))
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s %s: %v, want %q", c.net.Name, c.in, err, c.want)
		}
	}
	if _, err := DecodeInput(p, one, nil); err == nil || err.Error() != "One needs an input (o: Order)" {
		t.Errorf("no input: %v", err)
	}
	approve, stop := FindSignal(p, one, "Approve"), FindSignal(p, one, "Stop")
	if approve == nil || stop == nil || FindSignal(p, one, "Nope") != nil {
		t.Fatal("FindSignal")
	}
	for _, in := range []string{`"ann"`, `{"by":"ann"}`} {
		v, err := DecodePayload(p, approve, []byte(in))
		if err != nil || len(v) != 1 || v[0].String() != `"ann"` {
			t.Errorf("payload %s: %v %v", in, v, err)
		}
	}
	if _, err := DecodePayload(p, stop, []byte(`{"x":1}`)); err == nil || err.Error() != "signal Stop has no payload; give none or {}" {
		t.Errorf("a payload for a signal without one: %v", err)
	}
}

func TestWaitsAndQuery(t *testing.T) {
	p := program(t)
	log := engine.NewMemLog()
	eng, err := engine.New(engine.Config{Program: p, Eval: &host.Evaluator{}, Worker: nopWorker{}, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	vals, err := DecodeInput(p, p.Net("One"), []byte(`{"id":"o-1","cents":5}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(ctx, "c", "One", engine.Boxed(vals)); err != nil {
		t.Fatal(err)
	}
	s, _ := eng.Snapshot("c")
	if w := Waits(p, s); strings.Join(w, ",") != "Approve,Stop" || BackingOff(s) {
		t.Fatalf("waits %v", w)
	}
	if n, tr := SignalWait(p, s, "Approve"); n < 0 || p.Nets[n].Transitions[tr].Kind != ir.TSignal || p.Nets[n].Transitions[tr].Label != "Approve" {
		t.Fatalf("the wait Approve takes: %d %d", n, tr)
	}
	if n, tr := SignalWait(p, s, "Nope"); n != -1 || tr != -1 {
		t.Fatalf("the wait an unknown signal takes: %d %d", n, tr)
	}
	b, err := Query(ctx, p, s, p.Net("One").Queries[0])
	if err != nil || string(b) != `"waiting"` {
		t.Fatalf("query: %s %v", b, err)
	}
	if err := eng.Signal(ctx, "c", "Stop", nil); err != nil {
		t.Fatal(err)
	}
	s, _ = eng.Snapshot("c")
	if r, err := Result(p, p.Net("One"), s.Result); err != nil || string(r) != `"stopped"` {
		t.Fatalf("result: %s %v", r, err)
	}
}

type nopWorker struct{}

func (nopWorker) Invoke(context.Context, engine.Invocation) (eval.Value, error) {
	return eval.Value{}, nil
}
