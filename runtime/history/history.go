// Package history finds what an event of a case's log concerns, for
// the histories and process-mining exports that knhk history, knhk
// export and the server write from the same log: one place decides,
// and each of them names the result (see compiler/view).
package history

import (
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
)

// Step returns the net and transition ev concerns in s (the state
// before ev), or -1, -1: the transition fired, armed or timed out, or
// the one whose call an outcome (done, failed, retry) is of.
func Step(p *ir.Program, s *engine.State, ev *engine.Event) (net, trans int32) {
	frame, trans := ev.Frame, ev.Trans
	switch ev.Kind {
	case engine.EvFire, engine.EvArm, engine.EvTimer:
	case engine.EvFailed, engine.EvDone, engine.EvRetry:
		v := s.InvByID(ev.Inv)
		if v == nil {
			return -1, -1
		}
		frame, trans = v.Frame, v.Trans
	default:
		return -1, -1
	}
	f := s.FrameByID(frame)
	if f == nil || f.Net < 0 || int(f.Net) >= len(p.Nets) || trans < 0 || int(trans) >= len(p.Nets[f.Net].Transitions) {
		return -1, -1
	}
	return f.Net, trans
}

// Transition returns the transition ev concerns in s (the state before
// ev), as [Step] finds it, or nil.
func Transition(p *ir.Program, s *engine.State, ev *engine.Event) *ir.Transition {
	net, trans := Step(p, s, ev)
	if net < 0 {
		return nil
	}
	return p.Nets[net].Transitions[trans]
}

// Compensation returns the compensation whose outcome ev records in s
// (the state before ev), nil when ev is not such an outcome.
func Compensation(s *engine.State, ev *engine.Event) *engine.Inv {
	switch ev.Kind {
	case engine.EvDone, engine.EvFailed, engine.EvRetry:
		if v := s.InvByID(ev.Inv); v != nil && v.Comp && v.Call != nil {
			return v
		}
	}
	return nil
}
