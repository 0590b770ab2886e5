// This file tests case snapshots: the encoding round trip, replay from a
// snapshot against a full replay, damaged snapshots, and recovery through
// the in-memory and store-backed logs.

package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"reflect"
	"testing"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/store"
)

// checkSnapshots checks, after every prefix of events, that the state
// encodes deterministically (encode, decode, encode gives the same bytes
// and an equal state) and that replaying the rest of the events from the
// decoded snapshot gives exactly the state of a full replay.
func checkSnapshots(t testing.TB, m *Machine, id string, events []Event) {
	t.Helper()
	full := State{ID: id}
	for i := range events {
		if err := m.Apply(&full, &events[i]); err != nil {
			t.Fatalf("full replay of %s: %v", id, err)
		}
	}
	s := State{ID: id}
	for k := 0; k <= len(events); k++ {
		if k > 0 {
			if err := m.Apply(&s, &events[k-1]); err != nil {
				t.Fatal(err)
			}
		}
		b1, err := m.EncodeState(&s, uint64(k))
		if err != nil {
			t.Fatalf("case %s after %d events: %v", id, k, err)
		}
		d, n, err := m.DecodeState(b1)
		if err != nil {
			t.Fatalf("case %s after %d events: %v", id, k, err)
		}
		if n != uint64(k) || !reflect.DeepEqual(d, &s) {
			t.Fatalf("case %s after %d events: decoded %d events, state\n got %+v\nwant %+v", id, k, n, d, &s)
		}
		b2, err := m.EncodeState(d, n)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("case %s after %d events: encoding is not deterministic:\n%s\n%s", id, k, b1, b2)
		}
		for i := k; i < len(events); i++ {
			if err := m.Apply(d, &events[i]); err != nil {
				t.Fatalf("case %s: replaying event %d after a snapshot at %d: %v", id, i, k, err)
			}
		}
		if !reflect.DeepEqual(d, &full) {
			t.Fatalf("case %s: replay from a snapshot at %d differs:\n got %+v\nwant %+v", id, k, d, &full)
		}
	}
}

func TestSnapshotRichCase(t *testing.T) {
	x := newFixture(t)
	richNet(x)
	x.start("c", "Rich")
	x.wantStatus("c", Completed)
	events := x.log.Events("c")
	checkSnapshots(t, x.eng.Machine(), "c", events)
	// The pattern tests run with a snapshot every other event.
	if _, ok := x.log.snaps["c"]; !ok {
		t.Errorf("no snapshot was taken of %d events", len(events))
	}
}

// damaged returns b with f applied to a copy.
func damaged(b []byte, f func([]byte) []byte) []byte { return f(bytes.Clone(b)) }

func TestSnapshotDamage(t *testing.T) {
	x := newFixture(t)
	richNet(x)
	x.start("c", "Rich")
	m := x.eng.Machine()
	good, err := m.EncodeState(x.state("c"), 7)
	if err != nil {
		t.Fatal(err)
	}
	other := newFixture(t)
	richNet(other)
	other.task("extra", 0)
	om, err := NewMachine(other.p)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"empty":     nil,
		"garbage":   []byte("not a snapshot at all"),
		"truncated": good[:len(good)-5],
		"bit flip": damaged(good, func(b []byte) []byte {
			b[len(b)-3] ^= 1
			return b
		}),
		"version 2": damaged(good, func(b []byte) []byte {
			binary.BigEndian.PutUint16(b[8:], 2)
			return b
		}),
	}
	for name, b := range cases {
		if _, _, err := m.DecodeState(b); !errors.Is(err, ErrBadSnapshot) {
			t.Errorf("%s: decoded with %v", name, err)
		}
	}
	if _, _, err := om.DecodeState(good); !errors.Is(err, ErrBadSnapshot) {
		t.Errorf("a snapshot of another program decoded with %v", err)
	}
	if _, _, err := m.DecodeState(good); err != nil {
		t.Errorf("the good snapshot: %v", err)
	}

	// Recovery refuses a damaged snapshot instead of replaying around it.
	x.log.snaps["c"] = memSnap{at: x.log.snaps["c"].at, data: cases["version 2"]}
	e2, err := New(Config{Program: x.p, Eval: x.ev, Worker: x.w, Log: x.log, Clock: x.clock, Rounds: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := e2.Recover(ctx, "c"); !errors.Is(err, ErrBadSnapshot) {
		t.Errorf("recovering from a damaged snapshot: %v", err)
	}
	// Without snapshots the same log replays in full.
	e3, err := New(Config{Program: x.p, Eval: x.ev, Worker: x.w, Log: x.log, Clock: x.clock, SnapshotEvery: -1, Rounds: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := e3.Recover(ctx, "c"); err != nil {
		t.Errorf("full replay: %v", err)
	}
}

// countingLog counts the events ReplaySnapshot hands to recovery.
type countingLog struct {
	Snapshotter
	events int
}

func (l *countingLog) ReplaySnapshot(ctx context.Context, id string, restore func([]byte) error, fn func(*Event) error) error {
	return l.Snapshotter.ReplaySnapshot(ctx, id, restore, func(ev *Event) error { l.events++; return fn(ev) })
}

func TestStoreLogSnapshotRecover(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	x := newFixture(t)
	richNet(x)
	e1, err := New(Config{Program: x.p, Eval: x.ev, Worker: x.w, Log: StoreLog{Store: st}, Clock: x.clock, SnapshotEvery: 5, Rounds: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := e1.Start(ctx, "c", "Rich", nil); err != nil {
		t.Fatal(err)
	}
	if err := e1.Start(ctx, "other", "Body", []any{int64(9)}); err != nil {
		t.Fatal(err)
	}
	if err := e1.SnapshotErr(); err != nil {
		t.Fatal(err)
	}
	want, _ := e1.Snapshot("c")
	var total, snaps int
	if err := st.Scan(ctx, 0, func(r store.Record) error {
		if r.CaseID == "c" {
			if r.Kind == SnapshotKind {
				snaps++
			} else {
				total++
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if snaps != total/5 {
		t.Errorf("%d snapshots of %d events, want one every 5", snaps, total)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	// Plain Replay skips the snapshot records.
	n := 0
	if err := (StoreLog{Store: st}).Replay(ctx, "c", func(*Event) error { n++; return nil }); err != nil || n != total {
		t.Errorf("Replay gave %d events (%v), want %d", n, err, total)
	}

	log := &countingLog{Snapshotter: StoreLog{Store: st}}
	x.w = &fakeWorker{behave: x.w.behave}
	e2, err := New(Config{Program: x.p, Eval: x.ev, Worker: x.w, Log: log, Clock: x.clock, SnapshotEvery: 5, Rounds: true})
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
	if log.events != total%5 {
		t.Errorf("recovery replayed %d events after the snapshot, want %d", log.events, total%5)
	}
	if len(x.w.calls) != 0 {
		t.Errorf("a completed case invoked %d calls on recovery", len(x.w.calls))
	}
	if err := e2.Recover(ctx, "missing"); !errors.Is(err, ErrUnknownCase) {
		t.Errorf("recovering a missing case: %v", err)
	}

	// A damaged latest snapshot fails recovery with a clear error.
	if _, err := st.Append(ctx, store.Record{CaseID: "c", Kind: SnapshotKind, Payload: []byte("garbage")}); err != nil {
		t.Fatal(err)
	}
	if err := e2.Recover(ctx, "c"); !errors.Is(err, ErrBadSnapshot) {
		t.Errorf("recovering from a damaged snapshot: %v", err)
	}
}

// nonZero reports the first field of the struct v points to that is zero,
// so that a field added to State later cannot be left out of the
// snapshot unnoticed.
func nonZero(v any) string {
	r := reflect.ValueOf(v).Elem()
	for i := range r.NumField() {
		if r.Field(i).IsZero() {
			return r.Type().Field(i).Name
		}
	}
	return ""
}

func TestSnapshotEveryField(t *testing.T) {
	x := newFixture(t)
	richNet(x)
	m, err := NewMachine(x.p)
	if err != nil {
		t.Fatal(err)
	}
	rich := x.p.Nets[len(x.p.Nets)-1]
	var calls []*Inv
	for i, tr := range rich.Transitions {
		if tr.Call != nil {
			calls = append(calls, &Inv{ID: int32(i + 1), Frame: 1, Trans: int32(i), Call: tr.Call, Args: eval.Values(int64(i), "a"),
				Attempt: 2, Attempts: 3, Timeout: 5, Waiting: true, Due: 9, Comp: true, Hook: true, Started: 4, Features: eval.Values("eu", 2.5), Scope: 1})
		}
	}
	for _, v := range calls[1:] {
		v.Comp, v.Hook = false, false // a call of the frame's transition
	}
	g := &Group{Trans: 4, Items: eval.Values(int64(1), []any{"x"}), Args: eval.Values([]any{"k", 2.5}), Next: 1, Running: 1,
		Done: 1, Limit: 2, Quorum: 1, Results: eval.Values("r", nil), Joined: true, Closed: true}
	f := &Frame{ID: 1, Net: int32(len(x.p.Nets) - 1), Parent: -1, Trans: 3, Index: 2,
		Marking: make([]int32, len(m.nets[len(x.p.Nets)-1].init)), Vars: []eval.Value{eval.Bytes([]byte("b"))}, Alias: []int32{-1},
		Result: eval.Str("fr"), Groups: []*Group{g}, Held: []string{"m1", "m1"}, Scope: 4, Ending: true}
	f.Marking[0] = 1
	f.calls = int32(len(calls)) // derived from Invs by DecodeState
	s := &State{ID: "c", Net: f.Net, Status: Failing, Result: eval.Int(3), Error: "e", ErrorLoc: ir.Loc{File: 1, Span: source.Span{Start: 2, End: 5}}, Now: 7, Frames: []*Frame{f}, Invs: calls,
		Timers: []Timer{{Frame: 1, Trans: 2, Due: 3}}, Inbox: []Received{{Name: "Go", Payload: []eval.Value{}}},
		Comp: []Undo{{Call: calls[0].Call, Args: eval.Values("u")}}, CompErrors: []string{"undo failed"}, Cancel: true,
		HookQ: []HookRef{{Frame: 0, Hook: 1}, {Frame: 1, Hook: 2}}, HookErrors: []string{"hook h: failed"}, Closing: Completed, NextFrame: 2, NextInv: 9,
		Outbox:   []Mail{{ID: "c/send/3", From: "c", To: "d", Workflow: "W", Signal: "Go", Payload: eval.Values(int64(1), "p"), Loc: ir.Loc{File: 1, Span: source.Span{Start: 3, End: 4}}}},
		NextSend: 4, MailSeen: map[string]int32{"e": 0, "f": 3}, Undelivered: []string{"signal Go to case x: unknown case x"}}
	for _, v := range []any{s, f, g, calls[0], &s.Timers[0], &s.Inbox[0], &s.Comp[0], &s.HookQ[1], &s.Outbox[0]} {
		if name := nonZero(v); name != "" {
			t.Fatalf("%T.%s is zero in the test state: set it", v, name)
		}
	}
	b, err := m.EncodeState(s, 42)
	if err != nil {
		t.Fatal(err)
	}
	d, n, err := m.DecodeState(b)
	if err != nil {
		t.Fatal(err)
	}
	if n != 42 || !reflect.DeepEqual(d, s) {
		t.Fatalf("round trip of %d events:\n got %+v\nwant %+v", n, d, s)
	}
	if b2, err := m.EncodeState(d, n); err != nil || !bytes.Equal(b, b2) {
		t.Fatalf("encoding again gives other bytes (%v)", err)
	}
	if d.Invs[0].Call != s.Invs[0].Call {
		t.Errorf("decoded call is a copy, not the program's")
	}
	// A state that does not fit the program is refused.
	s.Timers[0].Trans = 999
	if b, err := m.EncodeState(s, 1); err != nil {
		t.Fatal(err)
	} else if _, _, err := m.DecodeState(b); !errors.Is(err, ErrBadSnapshot) {
		t.Errorf("decoded a timer of transition 999: %v", err)
	}
	s.Frames[0].Vars = []eval.Value{eval.Float(math.NaN())}
	if _, err := m.EncodeState(s, 1); err == nil {
		t.Errorf("encoded a NaN")
	}
}

// FuzzDecodeState checks that no input makes DecodeState panic, that
// every rejection wraps ErrBadSnapshot, and that whatever it accepts can
// be encoded again.
func FuzzDecodeState(f *testing.F) {
	x := newFixture(&testing.T{})
	richNet(x)
	m, err := NewMachine(x.p)
	if err != nil {
		f.Fatal(err)
	}
	e, err := New(Config{Program: x.p, Eval: x.ev, Worker: x.w, Log: x.log, Clock: x.clock, Rounds: true})
	if err != nil {
		f.Fatal(err)
	}
	if err := e.Start(context.Background(), "c", "Rich", nil); err != nil {
		f.Fatal(err)
	}
	s := State{ID: "c"}
	for i, ev := range x.log.Events("c") {
		if err := m.Apply(&s, &ev); err != nil {
			f.Fatal(err)
		}
		b, err := m.EncodeState(&s, uint64(i+1))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// Fix the checksum so that the fuzzer reaches the decoder.
		if len(b) >= snapHeader {
			binary.BigEndian.PutUint32(b[10:], crc32.Checksum(b[snapHeader:], castagnoli))
		}
		s, n, err := m.DecodeState(b)
		if err != nil {
			if !errors.Is(err, ErrBadSnapshot) {
				t.Fatalf("error without ErrBadSnapshot: %v", err)
			}
			return
		}
		if _, err := m.EncodeState(s, n); err != nil {
			t.Fatalf("decoded state does not encode: %v", err)
		}
	})
}
