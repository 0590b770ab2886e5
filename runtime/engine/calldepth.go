// This file implements the bound on nested sub-workflow calls: a
// recursion whose condition never turns false (which the checker cannot
// see) fails the case at the call instead of growing it and its log
// until the disk is full.

package engine

import (
	"fmt"

	"github.com/knhk/knhk/compiler/ir"
)

// MaxCallDepth bounds how deeply the frames of a case nest: sub-workflow
// calls and parallel-for bodies within each other. Starting one more
// fails the case at the call. Unconditional recursion is rejected by the
// checker; this bounds the conditional kind.
const MaxCallDepth = 1000

// frameDepth returns how many frames enclose f, f included.
func (s *State) frameDepth(f *Frame) int {
	n := 0
	for x := f; x != nil && n <= MaxCallDepth; n++ {
		if x.Parent < 0 {
			return n + 1
		}
		x = s.frame(x.Parent)
	}
	return n
}

// depthEvent fails the case at call t, which would nest one frame too
// many.
func depthEvent(now int64, t *ir.Transition) Event {
	return Event{Kind: EvFail, Time: now, Loc: t.Loc,
		Message: fmt.Sprintf("sub-workflow calls nested more than %d deep; does a recursion never stop?", MaxCallDepth)}
}
