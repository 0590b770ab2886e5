// This file renders send steps in pattern traces: the signal a case
// raises in itself is received, buffered or dropped as one that arrives
// from outside is; one for another case is queued.

package patterns

import (
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
)

// sendLine renders the firing of TSend t (event e): "send S to ID" for
// another case, else "send S" and what became of the signal in the case:
// received when a wait for it was enabled in the frames before the step
// (the wait then takes it from the inbox: "receive S" follows), buffered
// when the inbox grew without one, dropped otherwise.
func sendLine(p *ir.Program, t *ir.Transition, e *engine.Event, before []*engine.Frame, inbox int, s *engine.State) string {
	if e.Name != "" && e.Name != s.ID {
		return "send " + t.Label + " to " + e.Name
	}
	line := "send " + t.Label
	switch {
	case waiting(p, before, t.Label):
		return line + " received"
	case len(s.Inbox) > inbox:
		return line + " buffered"
	}
	return line + " dropped"
}

// waiting reports whether a wait for signal name is enabled in frames.
func waiting(p *ir.Program, frames []*engine.Frame, name string) bool {
	for _, f := range frames {
		if f == nil || f.Net < 0 || int(f.Net) >= len(p.Nets) {
			continue
		}
		n := p.Nets[f.Net]
		for ti, t := range n.Transitions {
			if t.Kind != ir.TSignal || t.Label != name {
				continue
			}
			in, _ := n.ArcsOf(int32(ti))
			ok := len(in) > 0
			for _, a := range in {
				ok = ok && int(a.Place) < len(f.Marking) && f.Marking[a.Place] >= max(a.Weight, 1)
			}
			if ok {
				return true
			}
		}
	}
	return false
}
