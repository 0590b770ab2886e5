package cluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

// TestFSMKeepsEventsAndKeys applies a start with a business key and
// checks that the FSM keeps the events, refuses the key for another
// case, and that a snapshot carries both into a fresh replica.
func TestFSMKeepsEventsAndKeys(t *testing.T) {
	f, h := newTestFSM(t)
	start := &Command{Op: OpEvent, ReqID: "a", Program: h, Case: "c", Pos: 0, Event: startEvent(t), Key: "order-17"}
	if r := f.Apply(entry(t, 5, start)).(*Result); r.Err != nil {
		t.Fatalf("start: %+v", r)
	}
	other := &Command{Op: OpEvent, Program: h, Case: "d", Pos: 0, Event: startEvent(t), Key: "order-17"}
	if r := f.Apply(entry(t, 6, other)).(*Result); !errors.Is(r.Err, ErrKeyInUse) {
		t.Fatalf("a second case with the key: %+v", r)
	}
	if _, _, ok := f.Case("d"); ok {
		t.Fatal("case d started with a key in use")
	}
	evs, missing, ok := f.CaseEvents("c")
	if !ok || missing != 0 || len(evs) != 1 || evs[0].Index != 5 || !bytes.Equal(evs[0].Data, startEvent(t)) {
		t.Fatalf("events of c: %+v missing %d ok %v", evs, missing, ok)
	}
	if id, ok := f.ByKey("order-17"); !ok || id != "c" || f.Key("c") != "order-17" {
		t.Fatalf("key: %q %v %q", id, ok, f.Key("c"))
	}
	if got := f.CasesByKey("der-1"); !reflect.DeepEqual(got, []string{"c"}) {
		t.Fatalf("cases by key text: %v", got)
	}
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	g, _ := newTestFSM(t)
	if err := g.Restore(io.NopCloser(bytes.NewReader(snap.(fsmSnapshot)))); err != nil {
		t.Fatal(err)
	}
	gevs, _, _ := g.CaseEvents("c")
	if !reflect.DeepEqual(gevs, evs) {
		t.Fatalf("restored events %+v, want %+v", gevs, evs)
	}
	if id, ok := g.ByKey("order-17"); !ok || id != "c" {
		t.Fatalf("restored key: %q %v", id, ok)
	}
	// The key stays bound after the restore.
	if r := g.Apply(entry(t, 7, other)).(*Result); !errors.Is(r.Err, ErrKeyInUse) {
		t.Fatalf("the key after a restore: %+v", r)
	}
}

// TestFSMRestoresStatesOnlySnapshot restores a version 1 snapshot (no
// events): the states come back, and the history says how many events
// it lacks; a snapshot whose events do not add up is refused.
func TestFSMRestoresStatesOnlySnapshot(t *testing.T) {
	f, h := newTestFSM(t)
	if r := f.Apply(entry(t, 1, &Command{Op: OpEvent, Program: h, Case: "c", Event: startEvent(t)})).(*Result); r.Err != nil {
		t.Fatal(r.Err)
	}
	snap, _ := f.Snapshot()
	var w map[string]any
	if err := json.Unmarshal(snap.(fsmSnapshot), &w); err != nil {
		t.Fatal(err)
	}
	w["v"] = 1
	for _, c := range w["cases"].([]any) {
		delete(c.(map[string]any), "events")
	}
	v1, _ := json.Marshal(w)
	g, _ := newTestFSM(t)
	if err := g.Restore(io.NopCloser(bytes.NewReader(v1))); err != nil {
		t.Fatal(err)
	}
	if evs, missing, ok := g.CaseEvents("c"); !ok || len(evs) != 0 || missing != 1 || g.Events("c") != 1 {
		t.Fatalf("v1 restore: %+v missing %d ok %v", evs, missing, ok)
	}
	w["v"] = 2
	bad, _ := json.Marshal(w)
	if err := g.Restore(io.NopCloser(bytes.NewReader(bad))); !errors.Is(err, ErrBadSnapshot) {
		t.Fatalf("a v2 snapshot without its events: %v", err)
	}
}

// TestConcurrentKeyedStarts starts one business key from many clients
// at once, each with its own request id: one start starts the case, and
// every other answers that it exists only once it does.
func TestConcurrentKeyedStarts(t *testing.T) {
	c := newTestCluster(t, compile(t, testSource))
	c.add("n1", nil, nil)
	l := c.leader()
	type res struct {
		id  string
		err error
	}
	out := make(chan res, 8)
	for i := range 8 {
		go func() {
			id, err := l.StartKeyed(ctx(t), fmt.Sprintf("r%d", i), "order-9", "k9", "W", []any{"k9"})
			out <- res{id, err}
		}()
	}
	started := 0
	for range 8 {
		r := <-out
		switch {
		case r.err == nil:
			started++
		case !errors.Is(r.err, ErrCaseExists):
			t.Fatalf("a keyed start: %v", r.err)
		}
		if r.id != "k9" {
			t.Fatalf("a keyed start answered case %q", r.id)
		}
		if _, _, ok := l.FSM().Case("k9"); !ok {
			t.Fatal("a start answered before the case was in the FSM")
		}
	}
	if started != 1 {
		t.Fatalf("%d starts started the case", started)
	}
}

// FuzzRestore restores arbitrary snapshots: a refusal wraps
// ErrBadSnapshot and leaves the FSM as it was, and what restores
// snapshots again to the same bytes.
func FuzzRestore(f *testing.F) {
	p := compile(f, testSource)
	h, err := p.Hash()
	if err != nil {
		f.Fatal(err)
	}
	newFSM := func(t testing.TB) *FSM {
		m, err := engine.NewMachine(p)
		if err != nil {
			t.Fatal(err)
		}
		fsm := NewFSM(m, h)
		fsm.SetCompiler(gateCompile)
		return fsm
	}
	seed := newFSM(f)
	start, _ := engine.EncodeEvent(&engine.Event{Kind: engine.EvStart, Time: 1, Trans: 0, Values: eval.Values("c")})
	c, _ := (&Command{Op: OpEvent, Program: h, Case: "c", Event: start, Key: "k"}).Encode()
	seed.Apply(&raft.Log{Index: 3, Type: raft.LogCommand, Data: c})
	v2 := strings.Replace(testSource, "got = x\n", "got = x * 10\n", 1)
	v2p, _ := gateCompile("v2.knhk", []byte(v2))
	h2, _ := v2p.Hash()
	d, _ := (&Command{Op: OpDeploy, Program: h, Deploy: &Deploy{Name: "v2.knhk", Source: []byte(v2), Hash: h2}}).Encode()
	seed.Apply(&raft.Log{Index: 4, Type: raft.LogCommand, Data: d})
	c2, _ := (&Command{Op: OpEvent, Program: h2, Case: "d", Event: start}).Encode()
	seed.Apply(&raft.Log{Index: 5, Type: raft.LogCommand, Data: c2})
	snap, err := seed.Snapshot()
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(snap.(fsmSnapshot)))
	every := newFSM(f)
	for i, c := range everyFieldCommands(f, h) {
		b, _ := c.Encode()
		every.Apply(&raft.Log{Index: uint64(i + 1), Type: raft.LogCommand, Data: b})
	}
	if snap, err = every.Snapshot(); err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(snap.(fsmSnapshot)))
	f.Add([]byte(`{"v":1,"prog":"` + h + `","cases":[]}`))
	f.Add([]byte(`{"v":2,"prog":"` + h + `","cases":[{"id":"c","state":"","base":3}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		g := newFSM(t)
		before, _ := g.Snapshot()
		if err := g.Restore(io.NopCloser(bytes.NewReader(b))); err != nil {
			if !errors.Is(err, ErrBadSnapshot) {
				t.Fatalf("error %v does not wrap ErrBadSnapshot", err)
			}
			after, _ := g.Snapshot()
			if !bytes.Equal(before.(fsmSnapshot), after.(fsmSnapshot)) {
				t.Fatal("a refused snapshot changed the FSM")
			}
			return
		}
		s1, err := g.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		g2 := newFSM(t)
		if err := g2.Restore(io.NopCloser(bytes.NewReader(s1.(fsmSnapshot)))); err != nil {
			t.Fatalf("a restored snapshot does not restore again: %v", err)
		}
		s2, _ := g2.Snapshot()
		if !bytes.Equal(s1.(fsmSnapshot), s2.(fsmSnapshot)) {
			t.Fatal("snapshot round trip differs")
		}
	})
}
