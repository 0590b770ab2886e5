// This file implements the process-mining activities of a case's events,
// which knhk export and the server's Export write from the same log.

package history

import (
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/compiler/view"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/export"
)

// Ended calls add with each activity ev completes, s being the state
// before ev: a fail step, a signal, a timer, or the call (or the
// compensation, as "undo" and its name) whose outcome ev records.
func Ended(p *ir.Program, s *engine.State, ev *engine.Event, add func(activity, lifecycle, resource string)) {
	switch ev.Kind {
	case engine.EvFire:
		if tr := Transition(p, s, ev); tr != nil && tr.Kind == ir.TFail {
			add("fail", export.Complete, "")
		}
	case engine.EvSignal:
		add("signal "+ev.Name, export.Complete, "")
	case engine.EvTimer:
		add("timer", export.Complete, "")
	case engine.EvDone:
		if v := s.InvByID(ev.Inv); v != nil && v.Call != nil {
			add(callName(p, v), export.Complete, view.Resource(p, v.Call))
		}
	}
}

// Started calls add with an activity for every call of s numbered next
// or later: s is the state after an event and next its NextInv before,
// so every call the event started, whatever started it (a task step, a
// learned route, a hook, a compensation), starts an activity.
func Started(p *ir.Program, s *engine.State, next int32, add func(activity, lifecycle, resource string)) {
	for _, v := range s.InvsFrom(next) {
		if v.Call != nil {
			add(callName(p, v), export.Start, view.Resource(p, v.Call))
		}
	}
}

// callName is the activity of call v: its callee, or "undo" and the
// callee for a compensation.
func callName(p *ir.Program, v *engine.Inv) string {
	if v.Comp {
		return "undo " + view.CalleeName(p, v.Call)
	}
	return view.CalleeName(p, v.Call)
}
