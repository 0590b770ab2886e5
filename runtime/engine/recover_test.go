// This file tests recovery: a crash at every event boundary, replay from
// the log, and the store-backed log.

package engine

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/store"
)

var errCrash = errors.New("crash")

// crashLog accepts limit appends and then fails, as if the process died
// before the next event was durable.
type crashLog struct {
	*MemLog
	limit, n int
}

func (l *crashLog) Append(ctx context.Context, id string, ev *Event) error {
	if l.n >= l.limit {
		return errCrash
	}
	l.n++
	return l.MemLog.Append(ctx, id, ev)
}

// richNet builds: split -> A (fails its first attempt, retried) and B ->
// join -> three instances of a body calling W, two at a time -> C -> end.
func richNet(x *fixture) {
	ta, tb, tc, tw := x.task("a", 1), x.task("b", 0), x.task("c", 0), x.task("w", 0)
	body := x.p.NewNet("Body", ir.String, ir.Param{Name: "item", Type: ir.Int})
	bp := body.Place("p")
	r := body.Var("r", ir.String)
	body.T(taskStep(body, "W", call(tw, x.varFn("item", ir.Int, 0)), body.N.Start, bp)).Result = r
	ret(body, bp, x.varFn("r", ir.String, r))

	n := x.p.NewNet("Rich", ir.String)
	pa, pb, qa, qb, j, k := n.Place("pa"), n.Place("pb"), n.Place("qa"), n.Place("qb"), n.Place("j"), n.Place("k")
	split := n.Trans("split", ir.TNop)
	n.In(n.N.Start, split)
	n.Out(split, pa)
	n.Out(split, pb)
	taskStep(n, "A", call(ta), pa, qa)
	taskStep(n, "B", call(tb), pb, qb)
	join := n.Trans("join", ir.TNop)
	n.In(qa, join)
	n.In(qb, join)
	n.Out(join, j)
	mi := n.Step("each", ir.TMulti, j, k)
	n.T(mi).Call = &ir.Call{Kind: ir.CallWorkflow, Target: body.Index, Retry: -1, Backoff: ir.NoFunc, Timeout: ir.NoFunc}
	n.T(mi).Value = x.constFn("items", x.p.ListOf(ir.Int), []any{int64(1), int64(2), int64(3)})
	n.T(mi).Limit = x.constFn("limit", ir.Int, int64(2))
	res := n.Var("res", ir.String)
	l := n.Place("l")
	n.T(taskStep(n, "C", call(tc), k, l)).Result = res
	ret(n, l, x.varFn("res", ir.String, res))
	x.w.behave["a"] = func(_ context.Context, inv Invocation) (any, error) {
		if inv.Attempt == 1 {
			return nil, errors.New("transient")
		}
		return "a-ok", nil
	}
	x.w.behave["w"] = func(_ context.Context, inv Invocation) (any, error) {
		return fmt.Sprint("w", inv.Args[0]), nil
	}
}

func keys(w *fakeWorker) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, c := range w.calls {
		out = append(out, c.IdempotencyKey)
	}
	return out
}

// completedKeys maps the idempotency key of each call outcome in events
// to the event's index.
func completedKeys(t *testing.T, e *Engine, id string, events []Event) map[string]int {
	s := State{ID: id}
	out := map[string]int{}
	for i, ev := range events {
		if ev.Kind == EvDone || ev.Kind == EvFailed {
			v, _ := s.inv(ev.Inv)
			out[e.invocation(&s, v).IdempotencyKey] = i
		}
		if err := e.m.Apply(&s, &ev); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestRecoverAtEveryEvent(t *testing.T) {
	clean := newFixture(t)
	richNet(clean)
	clean.start("c", "Rich")
	want := clean.wantStatus("c", Completed)
	if want.Result != eval.Str("c-ok") {
		t.Fatalf("result %v", want.Result)
	}
	wantEvents := clean.log.Events("c")
	clean.wantTrace("c", "start", "split", "A", "B", "failed A@1", "retry A", "done B", "done A", "join", "each",
		"W[1]", "W[2]", "done W[1]", "end[1]", "W[3]", "done W[2]", "end[2]", "done W[3]", "end[3]", "C", "done C", "end")
	wantKeys := keys(clean.w)
	done := completedKeys(t, clean.eng, "c", wantEvents)
	if len(wantEvents) < 20 {
		t.Fatalf("only %d events", len(wantEvents))
	}
	for k := range len(wantEvents) {
		// A snapshot every third event: recovery starts from the latest
		// one before the crash.
		x, keys1 := crashAndRecover(t, richNet, clean.clock, k, func(x *fixture) {
			if k >= 3 && x.log.snaps["c"].at != k/3*3 {
				t.Fatalf("crash at %d: latest snapshot after %d events", k, x.log.snaps["c"].at)
			}
		})
		if got := x.state("c"); !reflect.DeepEqual(got, want) {
			t.Errorf("crash at %d: final state differs:\n got %+v\nwant %+v", k, got, want)
		}
		// The events may come in another order after a crash (the
		// calls of an interrupted round complete in one new round), but
		// each transition fires exactly once and each outcome is
		// applied once.
		if got, want := slices.Sorted(slices.Values(x.trace("c"))), slices.Sorted(slices.Values(clean.trace("c"))); !slices.Equal(got, want) {
			t.Errorf("crash at %d: events differ:\n got %q\nwant %q", k, got, want)
		}
		keys2 := keys(x.w)
		all := slices.Concat(keys1, keys2)
		slices.Sort(all)
		uniq := slices.Compact(slices.Clone(all))
		sorted := slices.Sorted(slices.Values(wantKeys))
		if !slices.Equal(uniq, sorted) {
			t.Errorf("crash at %d: invoked %q, want %q", k, uniq, sorted)
		}
		for _, key := range keys2 {
			if slices.Contains(keys1, key) && done[key] < k {
				t.Errorf("crash at %d: %s was invoked again though its outcome was logged", k, key)
			}
		}
		for i := 1; i < len(all); i++ {
			if all[i] == all[i-1] && !slices.Contains(keys1, all[i]) {
				t.Errorf("crash at %d: %s invoked twice after recovery", k, all[i])
			}
		}
	}
}

func TestStoreLogRecover(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	x := newFixture(t)
	richNet(x)
	e1, err := New(Config{Program: x.p, Eval: x.ev, Worker: x.w, Log: StoreLog{Store: st}, Clock: x.clock, Rounds: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := e1.Start(ctx, "c", "Rich", nil); err != nil {
		t.Fatal(err)
	}
	if err := e1.Start(ctx, "other", "Body", []any{int64(9)}); err != nil {
		t.Fatal(err)
	}
	want, _ := e1.Snapshot("c")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	x.w = &fakeWorker{behave: x.w.behave}
	e2, err := New(Config{Program: x.p, Eval: x.ev, Worker: x.w, Log: StoreLog{Store: st}, Clock: x.clock, Rounds: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := e2.Recover(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	got, _ := e2.Snapshot("c")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("recovered state differs:\n got %+v\nwant %+v", got, want)
	}
	if len(x.w.calls) != 0 {
		t.Errorf("a completed case invoked %d calls on recovery", len(x.w.calls))
	}
	if err := e2.Recover(ctx, "missing"); !errors.Is(err, ErrUnknownCase) {
		t.Errorf("recovering a missing case: %v", err)
	}
}

func TestEventEncoding(t *testing.T) {
	vs := []eval.Value{eval.None, eval.Bool(true), eval.Str("s"), eval.Int(-7), eval.Float(2.5),
		eval.List([]eval.Value{eval.Int(1), eval.Str("x")}), eval.Bytes([]byte("hi")),
		eval.Duration(3 * time.Second), eval.TimeNanos(42), eval.List([]eval.Value{})}
	ev := &Event{Kind: EvFire, Time: 5, Frame: 2, Trans: 3, Outs: []int32{}, Undo: []eval.Value{},
		Values:   vs,
		Attempts: 3, Limit: 2, Quorum: 1, Timeout: 9, Due: 11, Attempt: 1, Choice: 2, Name: "n", Message: "m"}
	b, err := EncodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeEvent(b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.untyped {
		t.Error("a decoded event is not marked untyped")
	}
	got.untyped = false
	if !reflect.DeepEqual(got, ev) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, ev)
	}
	if b2, err := EncodeEvent(got); err != nil || string(b2) != string(b) {
		t.Errorf("re-encoded as %s, %v, want %s", b2, err, b)
	}
	for _, bad := range []string{`{`, `{"k":1,"v":[{"i":"x"}]}`, `{"k":1,"v":[{"q":1}]}`, `{"k":1,"v":[1]}`} {
		if _, err := DecodeEvent([]byte(bad)); err == nil {
			t.Errorf("decoded %s", bad)
		}
	}
}

// crashAndRecover runs case "c" of workflow Rich, built by build, until
// its log refuses event k (a crash), then recovers it on a new engine
// and worker with snapshots every third event, and returns the fixture
// of the recovered run and the idempotency keys invoked before the crash.
// crashed, when not nil, inspects the fixture between crash and recovery.
func crashAndRecover(t *testing.T, build func(*fixture), clock *fakeClock, k int, crashed func(*fixture)) (*fixture, []string) {
	t.Helper()
	ctx := context.Background()
	x := newFixture(t)
	build(x)
	x.clock = clock
	e1, err := New(Config{Program: x.p, Eval: x.ev, Worker: x.w, Log: &crashLog{MemLog: x.log, limit: k}, Clock: x.clock, SnapshotEvery: 3, Rounds: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := e1.Start(ctx, "c", "Rich", nil); !errors.Is(err, errCrash) {
		t.Fatalf("crash at %d: run ended with %v", k, err)
	}
	keys1 := keys(x.w)
	x.w = &fakeWorker{behave: x.w.behave}
	e2, err := New(Config{Program: x.p, Eval: x.ev, Worker: x.w, Log: x.log, Clock: x.clock, SnapshotEvery: 3, Rounds: true})
	if err != nil {
		t.Fatal(err)
	}
	x.eng = e2
	if crashed != nil {
		crashed(x)
	}
	if k == 0 {
		err = e2.Start(ctx, "c", "Rich", nil)
	} else {
		err = e2.Recover(ctx, "c")
	}
	if err != nil {
		t.Fatalf("crash at %d: recovery: %v", k, err)
	}
	return x, keys1
}
