// This file fuzzes the typing of logged values: whatever an event names
// (frames, transitions, invocations, candidates, hooks that the state
// does not have), TypesOf answers without panicking, and what it types
// has one type per value; WalkSlots walks any state an event leads to.

package engine

import (
	"testing"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

func FuzzTypesOf(f *testing.F) {
	x := newFixture(f)
	richNet(x)
	x.start("c", "Rich")
	m := x.eng.Machine()
	events := x.log.Events("c")
	for i := range events {
		b, err := EncodeEvent(&events[i])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"k":2,"f":9,"tr":-1,"c":7}`))
	f.Add([]byte(`{"k":5,"i":99,"v":[1]}`))
	f.Add([]byte(`{"k":11,"f":0,"tr":5,"v":["x"]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := DecodeEvent(b)
		if err != nil {
			return
		}
		for stop := 0; stop <= len(events); stop += 3 {
			s := State{ID: "c"}
			for i := range stop {
				if err := m.Apply(&s, &events[i]); err != nil {
					t.Fatal(err)
				}
			}
			if vt, ok := m.TypesOf(&s, ev); ok && (len(vt.Values) != len(ev.Values) || len(vt.Undo) != len(ev.Undo) || len(vt.Features) != len(ev.Features)) {
				t.Fatalf("types %+v for %+v", vt, ev)
			}
			_ = m.Apply(&s, ev)
			if err := m.WalkSlots(&s, func(*eval.Value, ir.TypeID) error { return nil }); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestTypesOfRich types every event of a real run of the fixture's
// richest net: each event with values has a type for each.
func TestTypesOfRich(t *testing.T) {
	x := newFixture(t)
	richNet(x)
	x.start("c", "Rich")
	m := x.eng.Machine()
	s := State{ID: "c"}
	typed := 0
	for i, ev := range x.log.Events("c") {
		vt, ok := m.TypesOf(&s, &ev)
		if !ok {
			t.Errorf("event %d (%s) is not typed", i, ev.Kind)
		}
		for k, ty := range vt.Values {
			if m.Prog.Type(ty) == nil && ty >= ir.FirstComposite {
				t.Errorf("event %d value %d: type %d is not in the program", i, k, ty)
			}
		}
		typed += len(vt.Values)
		if err := m.Apply(&s, &ev); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d values typed", typed)
	if typed == 0 {
		t.Error("no value of the Rich run was typed")
	}
}
