// This file tests that every value in the v1 data directory reads as a
// typed eval value and writes back to the same bytes: the log's encoding
// is already the canonical encoding of eval values, so that an engine
// carrying eval.Value needs no new on-disk format.

package host

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/store"
)

func TestCompatTypedValues(t *testing.T) {
	src, err := os.ReadFile("testdata/compat/values.knhk")
	if err != nil {
		t.Fatal(err)
	}
	p := compile(t, string(src))
	m, err := engine.NewMachine(p)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	if err := os.CopyFS(tmp, os.DirFS(filepath.Join("testdata", "compat", "v1"))); err != nil {
		t.Fatal(err)
	}
	chmodAll(t, tmp)
	st, err := store.Open(tmp, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	states := map[string]*engine.State{}
	kinds := map[ir.Kind]bool{}
	typedEvents := 0
	if err := st.Scan(context.Background(), 0, func(r store.Record) error {
		if r.Kind == engine.SnapshotKind {
			return nil
		}
		ev, err := engine.DecodeEvent(r.Payload)
		if err != nil {
			t.Fatalf("record %d: %v", r.Seq, err)
		}
		s := states[r.CaseID]
		if s == nil {
			s = &engine.State{ID: r.CaseID}
			states[r.CaseID] = s
		}
		tv, err := EventValues(m, s, ev)
		if err != nil {
			t.Errorf("record %d (%s) of case %s: %v", r.Seq, ev.Kind, r.CaseID, err)
		} else {
			b, err := engine.EncodeEvent(WithValues(ev, tv))
			if err != nil || string(b) != string(r.Payload) {
				t.Errorf("record %d (%s) typed encodes as\n%s, %v\nnot\n%s", r.Seq, ev.Kind, b, err, r.Payload)
			}
			for _, v := range append(append(tv.Values, tv.Undo...), tv.Features...) {
				collectKinds(v, kinds)
			}
			if len(tv.Values) > 0 {
				typedEvents++
			}
		}
		if err := m.Apply(s, ev); err != nil {
			t.Fatalf("record %d does not apply: %v", r.Seq, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d typed events, kinds %v", typedEvents, kinds)
	// Each case's state, through a snapshot, reads as typed values too,
	// and writes back to the same snapshot bytes.
	for id, s := range states {
		b, err := m.EncodeState(s, 1)
		if err != nil {
			t.Fatal(err)
		}
		back, _, err := m.DecodeState(b)
		if err != nil {
			t.Fatal(err)
		}
		slots := 0
		if err := m.WalkSlots(back, func(x *eval.Value, ty ir.TypeID) error {
			if x.Kind() == ir.KindVoid && p.KindOf(ty) != ir.KindOptional && p.KindOf(ty) != ir.KindVoid {
				return nil // an unset variable
			}
			v, err := eval.Retype(p, *x, ty)
			if err != nil {
				return fmt.Errorf("a %s slot: %w", p.TypeString(ty), err)
			}
			collectKinds(v, kinds)
			*x = v
			slots++
			return nil
		}); err != nil {
			t.Errorf("case %s's snapshot: %v", id, err)
		}
		b2, err := m.EncodeState(back, 1)
		if err != nil || string(b2) != string(b) {
			t.Errorf("case %s's typed snapshot encodes as\n%s, %v\nnot\n%s", id, b2, err, b)
		}
		t.Logf("case %s: %d typed slots in its snapshot", id, slots)
		if slots < 2 {
			t.Errorf("case %s's snapshot has %d typed values", id, slots)
		}
	}
	if typedEvents < 4 {
		t.Errorf("only %d events with values", typedEvents)
	}
	// The data directory holds a value of every kind; each must have
	// been read as itself, not as a look-alike.
	for _, k := range []ir.Kind{ir.KindBool, ir.KindInt, ir.KindI32, ir.KindU32, ir.KindFloat, ir.KindF32, ir.KindString,
		ir.KindBytes, ir.KindDuration, ir.KindTime, ir.KindEnum, ir.KindOptional, ir.KindList, ir.KindRecord, ir.KindMap} {
		if !kinds[k] {
			t.Errorf("no %v value read from the v1 data directory", k)
		}
	}
}

// A value of the wrong shape for its slot is an error naming the event
// kind and the slot, not a silently wrong value.
func TestEventValuesWrongShape(t *testing.T) {
	src, err := os.ReadFile("testdata/compat/values.knhk")
	if err != nil {
		t.Fatal(err)
	}
	p := compile(t, string(src))
	m, err := engine.NewMachine(p)
	if err != nil {
		t.Fatal(err)
	}
	ev := &engine.Event{Kind: engine.EvStart, Trans: int32(netIndex(t, p, "W")), Values: []eval.Value{eval.Int(3)}}
	_, err = EventValues(m, &engine.State{ID: "x"}, ev)
	if err == nil || !strings.Contains(err.Error(), "start event, value 0") || !strings.Contains(err.Error(), "int value") {
		t.Errorf("a start with an int for a record: %v", err)
	}
	ev.Values = nil
	if _, err := EventValues(m, &engine.State{ID: "x"}, ev); err == nil || !strings.Contains(err.Error(), "do not fit") {
		t.Errorf("a start without its argument: %v", err)
	}
}

func netIndex(t *testing.T, p *ir.Program, name string) int {
	t.Helper()
	for i, n := range p.Nets {
		if n.Name == name {
			return i
		}
	}
	t.Fatalf("no net %s", name)
	return -1
}

// collectKinds records the kinds of v and of everything inside it.
func collectKinds(v eval.Value, into map[ir.Kind]bool) {
	into[v.Kind()] = true
	switch v.Kind() {
	case ir.KindList, ir.KindRecord:
		for i := range v.Len() {
			collectKinds(v.Index(i), into)
		}
	case ir.KindMap:
		for i := range v.Len() {
			collectKinds(v.Key(i), into)
			collectKinds(v.Index(i), into)
		}
	}
}

// chmodAll makes the files under dir writable (a copy of testdata may
// be read-only, and opening a store writes its lock).
func chmodAll(t *testing.T, dir string) {
	t.Helper()
	if err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			err = os.Chmod(path, 0o644)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}
