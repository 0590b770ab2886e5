package history

import (
	"slices"
	"testing"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
)

// fixture is a net with a task step (pay) and a fail step, running in
// frame 7, with call 3 (pay) running and call 4 (pay's compensation)
// running.
func fixture() (*ir.Program, *engine.State) {
	pay := &ir.Call{Kind: ir.CallTask, Target: 0}
	p := &ir.Program{
		Tasks: []*ir.Task{{Name: "pay", Binding: ir.Binding{Kind: ir.BindQueue}}},
		Nets: []*ir.Net{{Name: "W", Transitions: []*ir.Transition{
			{Name: "task_3", Kind: ir.TTask, Call: pay},
			{Name: "fail_9", Kind: ir.TFail},
		}}},
	}
	s := &engine.State{
		Frames: []*engine.Frame{{ID: 7, Net: 0}},
		Invs: []*engine.Inv{
			{ID: 3, Frame: 7, Trans: 0, Call: pay},
			{ID: 4, Frame: -1, Trans: -1, Call: pay, Comp: true},
		},
	}
	return p, s
}

func TestStep(t *testing.T) {
	p, s := fixture()
	for _, c := range []struct {
		ev         engine.Event
		net, trans int32
	}{
		{engine.Event{Kind: engine.EvFire, Frame: 7, Trans: 1}, 0, 1},
		{engine.Event{Kind: engine.EvDone, Inv: 3}, 0, 0},
		{engine.Event{Kind: engine.EvDone, Inv: 4}, -1, -1},             // a compensation has no step
		{engine.Event{Kind: engine.EvFire, Frame: 7, Trans: 2}, -1, -1}, // out of range
		{engine.Event{Kind: engine.EvFire, Frame: 8, Trans: 0}, -1, -1}, // no such frame
		{engine.Event{Kind: engine.EvSignal, Frame: 7, Trans: 0}, -1, -1},
	} {
		net, trans := Step(p, s, &c.ev)
		if net != c.net || trans != c.trans {
			t.Errorf("Step(%v) = %d, %d; want %d, %d", c.ev, net, trans, c.net, c.trans)
		}
		tr := Transition(p, s, &c.ev)
		if (tr == nil) != (c.net < 0) || tr != nil && tr != p.Nets[c.net].Transitions[c.trans] {
			t.Errorf("Transition(%v) = %v, want net %d transition %d", c.ev, tr, c.net, c.trans)
		}
	}
	if v := Compensation(s, &engine.Event{Kind: engine.EvDone, Inv: 4}); v == nil || v.ID != 4 {
		t.Errorf("Compensation of call 4's outcome = %v, want call 4", v)
	}
	if v := Compensation(s, &engine.Event{Kind: engine.EvDone, Inv: 3}); v != nil {
		t.Errorf("Compensation of call 3's outcome = %v, want nil (not a compensation)", v)
	}
}

func TestActivities(t *testing.T) {
	p, s := fixture()
	var got []string
	add := func(activity, lifecycle, resource string) {
		got = append(got, activity+"/"+lifecycle+"/"+resource)
	}
	Ended(p, s, &engine.Event{Kind: engine.EvFire, Frame: 7, Trans: 1}, add)
	Ended(p, s, &engine.Event{Kind: engine.EvFire, Frame: 7, Trans: 0}, add) // starts a call, ends nothing
	Ended(p, s, &engine.Event{Kind: engine.EvSignal, Name: "Approve"}, add)
	Ended(p, s, &engine.Event{Kind: engine.EvDone, Inv: 3}, add)
	Ended(p, s, &engine.Event{Kind: engine.EvDone, Inv: 4}, add)
	Started(p, s, 4, add)
	want := []string{"fail/complete/", "signal Approve/complete/", "pay/complete/queue", "undo pay/complete/queue", "undo pay/start/queue"}
	if !slices.Equal(got, want) {
		t.Errorf("activities:\n got %q\nwant %q", got, want)
	}
}
