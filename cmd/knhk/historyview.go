// This file implements the user-level history: events of the steps that
// compiler/view collapses are marked as bookkeeping, and the others are
// named as the view names them.

package main

import (
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/compiler/view"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/history"
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
	net, trans := history.Step(p, s, ev)
	if net < 0 {
		return
	}
	name, show := vc.of(p, net).Step(p, trans)
	h.bookkeeping = !show
	if name != h.Step {
		h.user = name
	}
}
