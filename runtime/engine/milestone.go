// This file implements milestones: which ones a frame holds, and how an
// evaluator reads them.

package engine

import (
	"slices"

	"github.com/knhk/knhk/compiler/ir"
)

// MilestoneReader is implemented by the [VarReader] the engine passes in
// [Env.Vars]: an evaluator that supports the expression milestone M asks
// it whether M is held. (It is a separate interface so that VarReaders
// written before milestones existed still satisfy VarReader.)
type MilestoneReader interface {
	Milestone(name string) bool
}

// mark applies a TMarker of a milestone to f: entering holds the
// milestone once more, leaving releases one hold. A milestone is a
// counter, not a flag, because two branches may be inside the same
// milestone at once.
func mark(f *Frame, t *ir.Transition) {
	switch t.Marker {
	case ir.MarkMilestoneEnter:
		f.Held = append(f.Held, t.Label)
	case ir.MarkMilestoneExit:
		if i := slices.Index(f.Held, t.Label); i >= 0 {
			f.Held = slices.Delete(f.Held, i, i+1)
		}
	}
}

// Milestone reports whether milestone name is held by the frame or by
// the frames it runs inside of the same workflow (the bodies of a
// parallel for are child frames; a sub-workflow has milestones of its
// own).
func (v *frameVars) Milestone(name string) bool {
	for f := v.f; f != nil; {
		if slices.Contains(f.Held, name) {
			return true
		}
		if f.Parent < 0 {
			return false
		}
		p := v.s.frame(f.Parent)
		if p == nil {
			return false
		}
		c := v.m.net(p.Net)
		if c == nil || f.Trans < 0 || int(f.Trans) >= len(c.trans) || c.trans[f.Trans].t.Kind != ir.TMulti {
			return false
		}
		f = p
	}
	return false
}
