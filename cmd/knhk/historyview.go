// This file implements the user-level history: events of the steps that
// compiler/view collapses are marked as bookkeeping, and the others are
// named as the view names them.

package main

import (
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/compiler/view"
	"github.com/knhk/knhk/runtime/engine"
)

// viewCache holds the view of each net a history has met, built once.
type viewCache map[int32]*view.Graph

func (vc viewCache) of(p *ir.Program, net int32) *view.Graph {
	g := vc[net]
	if g == nil {
		g = view.Build(p, int(net), view.Options{})
		vc[net] = g
	}
	return g
}

// userStep marks h as bookkeeping when ev concerns a transition the view
// collapses, and otherwise records the view's name of the step (see
// [view.Graph.Step]). s is the state before ev.
func userStep(h *historyEntry, vc viewCache, p *ir.Program, s *engine.State, ev *engine.Event) {
	net, trans := eventStep(p, s, ev)
	if net < 0 {
		return
	}
	name, show := vc.of(p, net).Step(p, trans)
	h.bookkeeping = !show
	if name != h.Step {
		h.user = name
	}
}

// eventStep returns the net and transition ev concerns in s (the state
// before ev), or -1, -1; it finds them as eventTransition does.
func eventStep(p *ir.Program, s *engine.State, ev *engine.Event) (int32, int32) {
	frame, trans := ev.Frame, ev.Trans
	switch ev.Kind {
	case engine.EvFire, engine.EvArm, engine.EvTimer:
	case engine.EvFailed, engine.EvDone, engine.EvRetry:
		frame, trans = -1, -1
		for _, v := range s.Invs {
			if v.ID == ev.Inv {
				frame, trans = v.Frame, v.Trans
			}
		}
	default:
		return -1, -1
	}
	for _, f := range s.Frames {
		if f.ID != frame || f.Net < 0 || int(f.Net) >= len(p.Nets) {
			continue
		}
		if trans >= 0 && int(trans) < len(p.Nets[f.Net].Transitions) {
			return f.Net, trans
		}
	}
	return -1, -1
}
