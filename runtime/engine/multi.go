// This file implements the parts of multiple instances (ir.TMulti) that
// go beyond a fixed list joined by all, any or N: instances added by a
// signal while the loop runs (more on, WCP 15), a quorum that lets the
// remaining instances run on (keep, WCP 34, 36), and the blocking that
// keeping them implies.

package engine

import (
	"fmt"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// blocked reports whether transition ti of frame f must wait although
// its input tokens are there: a TMulti whose previous activation still
// has instances (kept ones after its quorum, say, when a loop re-enters
// it), so that a transition has at most one group and a re-entered
// loop blocks until the previous instances have finished (WCP 28, 31's
// blocking); and a TReturn of a frame with kept instances, so that a
// net does not complete, and its case or parent go on, while instances
// it started still run. fail, cancel case and cancel region do withdraw
// them.
func (m *Machine) blocked(s *State, f *Frame, c *cnet, ti int32) bool {
	switch c.trans[ti].t.Kind {
	case ir.TMulti:
		for _, g := range f.Groups {
			if g.Trans == ti {
				return true
			}
		}
	case ir.TReturn:
		for _, g := range f.Groups {
			if g.Joined {
				return true
			}
		}
	}
	return false
}

// takeBuffered moves the buffered signals that multiple-instance
// transition t accepts (more on) from the inbox into group g's items, in
// arrival order: a persistent signal that arrived before the loop
// started, or while no loop accepted it, is kept for it (WCP 24).
func takeBuffered(s *State, t *ir.Transition, g *Group) {
	if t.Label == "" {
		return
	}
	in := s.Inbox[:0]
	for _, r := range s.Inbox {
		if r.Name != t.Label {
			in = append(in, r)
			continue
		}
		g.Items = append(g.Items, element(r.Payload))
		g.Results = append(g.Results, eval.Value{})
	}
	clear(s.Inbox[len(in):])
	s.Inbox = in
}

// element is the element a signal's payload adds: its one value.
func element(payload []eval.Value) eval.Value {
	if len(payload) == 0 {
		return eval.Value{}
	}
	return payload[0]
}

// addInstance offers signal e to the running loops that accept it (more
// on), frame by frame: the first whose window is open (its quorum not
// yet reached) starts one more instance with the payload as its element.
// It reports whether one took the signal.
func (m *Machine) addInstance(s *State, e *Event) bool {
	for _, f := range s.Frames {
		c := m.nets[f.Net]
		for _, g := range f.Groups {
			if t := openLoop(c, g); t == nil || t.Label != e.Name {
				continue
			}
			g.Items = append(g.Items, element(e.Values))
			g.Results = append(g.Results, eval.Value{})
			m.spawn(s, f, g)
			return true
		}
	}
	return false
}

// openLoop returns the parallel for transition of group g, a group of
// net c, while the loop is open (neither joined nor closed); nil
// otherwise.
func openLoop(c *cnet, g *Group) *ir.Transition {
	if g.Joined || g.Closed || g.Trans < 0 || int(g.Trans) >= len(c.trans) {
		return nil
	}
	if t := c.trans[g.Trans].t; t.Kind == ir.TMulti {
		return t
	}
	return nil
}

// groupOver reports whether group g of transition t has nothing left to
// wait for: its quorum is reached, or every instance has started and
// finished. A loop with more on and a join count waits for that many
// instances even when none is running, since a signal may add them; one
// joined by all closes its window once all started instances are done,
// and so does one that a cancel task closed (see closeGroups).
func groupOver(t *ir.Transition, g *Group) bool {
	if g.Quorum > 0 && g.Done >= g.Quorum {
		return true
	}
	if g.Running > 0 || int(g.Next) < len(g.Items) {
		return false
	}
	return g.Closed || t.Kind != ir.TMulti || t.Label == "" || g.Quorum == 0
}

// keepOn reports whether finishing group g of transition t leaves
// instances running (t keeps them and some still run) and, when it does,
// marks g joined: the group stays and takes no new instances (the items
// not yet started are dropped) until its last instance ends (see
// keptDone).
func keepOn(t *ir.Transition, g *Group) bool {
	if !t.Keep || g.Running == 0 {
		return false
	}
	g.Joined = true
	g.Items = g.Items[:g.Next]
	g.Results = g.Results[:g.Next]
	return true
}

// keptDone records that an instance of joined group g of frame p ended:
// the group goes once none runs.
func keptDone(s *State, p *Frame, g *Group) {
	if g.Running <= 0 {
		s.dropGroup(p, g.Trans)
	}
}

// quorumEvent fails a case whose loop computed a join count n below 1,
// at the count's expression (fn's location) when known.
func quorumEvent(now int64, fn *ir.Func, t *ir.Transition, n int64) Event {
	loc := t.Loc
	if fn != nil && fn.Loc.Known() {
		loc = fn.Loc
	}
	return Event{Kind: EvFail, Time: now, Message: fmt.Sprintf("join count must be at least 1, found %d", n), Loc: loc}
}
