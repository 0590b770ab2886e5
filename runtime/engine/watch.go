// This file implements what the engine remembers, between the events of
// a case, about where the case may have work: the frames that may have
// an enabled transition, the calls that events added or dropped, and
// whether a call may be backing off. Without it every event pays a pass
// over every frame and every call, and a loop over n items, which runs
// up to n frames and n calls at once, costs O(n²).

package engine

import (
	"container/heap"
	"context"
	"fmt"

	"github.com/knhk/knhk/compiler/ir"
)

// watch is derived from the events the engine commits and from nothing
// else; it only narrows where the scheduler looks, never what it decides:
// next still returns the event of the first frame (in id order) with
// work, because a frame leaves the watch only once it was seen to have
// none and an event that may give it some puts it back. An event it
// cannot reason about (a signal taken by a wait, a hook, a fail, cancel
// task, a kind added later) marks everything.
type watch struct {
	from  int32     // every frame with an id >= from may have work
	dirty frameHeap // other frames that may have work
	in    map[int32]bool
	// all counts the events that marked everything; a live run that saw
	// another count rescans the calls.
	all uint64
	// dropped counts the events that dropped a call other than the one
	// whose outcome they record: a live run that saw another count
	// withdraws the calls the case no longer has.
	dropped uint64
	// retried lists the calls whose backoff ended since a live run last
	// started calls (only while one runs).
	retried []int32
	// noWait says no call is waiting for a due time (a backoff, a
	// sleep): set when a pass over the calls found none, cleared by an
	// event that may have made one wait.
	noWait bool
	// timersKnown says timerDue is at most the earliest due time of the
	// armed timers (math.MaxInt64 for none): arming lowers it, disarming
	// leaves it a lower bound, and the scheduler passes over the timers
	// only once it is reached.
	timersKnown bool
	timerDue    int64
	chain       []int32 // before: the event's frame and its ancestors
}

// frameHeap is a min-heap of frame ids.
type frameHeap []int32

func (h frameHeap) Len() int           { return len(h) }
func (h frameHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h frameHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *frameHeap) Push(x any)        { *h = append(*h, x.(int32)) }
func (h *frameHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// everything marks every frame and call as possibly having work.
func (w *watch) everything() {
	w.from = 0
	w.dirty = w.dirty[:0]
	clear(w.in)
	w.all++
	w.noWait = false
	w.timersKnown = false
}

// mark notes that frame id may have work.
func (w *watch) mark(id int32) {
	if id < 0 || id >= w.from || w.in[id] {
		return
	}
	if w.in == nil {
		w.in = map[int32]bool{}
	}
	w.in[id] = true
	heap.Push(&w.dirty, id)
}

// markUp marks frame id and the frames it runs inside: a frame that
// completes changes its parent, which may complete in turn.
func (w *watch) markUp(s *State, id int32) {
	for id >= 0 {
		w.mark(id)
		f := s.frame(id)
		if f == nil {
			return
		}
		id = f.Parent
	}
}

// first returns the frame with the lowest id that may have work, nil
// when none may.
func (w *watch) first(s *State) *Frame {
	var a *Frame
	for len(w.dirty) > 0 {
		if i := s.frameAt(w.dirty[0]); i >= 0 {
			a = s.Frames[i]
			break
		}
		delete(w.in, heap.Pop(&w.dirty).(int32)) // the frame has ended
	}
	if i := s.firstFrameFrom(w.from); i < len(s.Frames) && (a == nil || s.Frames[i].ID < a.ID) {
		return s.Frames[i]
	}
	return a
}

// clean records that frame f, the one first returned, has no work.
func (w *watch) clean(f *Frame) {
	if len(w.dirty) > 0 && w.dirty[0] == f.ID {
		delete(w.in, heap.Pop(&w.dirty).(int32))
	}
	if f.ID >= w.from {
		// No frame has an id between from and f's: f was the first.
		w.from = f.ID + 1
	}
}

// preEvent is what watch needs to know about a state before an event is
// applied to it.
type preEvent struct {
	nextFrame, nextInv int32
	invs, inbox        int
	status, closing    Status
	frame              int32 // the frame the event works in, -1 for none
	hadInv             bool  // the call whose outcome the event records exists
	wide               bool  // the event may work anywhere
}

// before looks at s before ev is applied.
func (w *watch) before(m *Machine, s *State, ev *Event) preEvent {
	p := preEvent{nextFrame: s.NextFrame, nextInv: s.NextInv, invs: len(s.Invs), inbox: len(s.Inbox),
		status: s.Status, closing: s.Closing, frame: -1}
	switch ev.Kind {
	case EvFire, EvArm, EvTimer:
		p.frame = ev.Frame
		if f := s.frame(ev.Frame); f != nil && ev.Kind == EvFire {
			c := m.nets[f.Net]
			if ev.Trans < 0 || int(ev.Trans) >= len(c.trans) {
				break
			}
			switch t := c.trans[ev.Trans].t; {
			case t.Cancel == ir.CancelTask, t.Cancel == ir.CancelCase && t.Kind == ir.TCancel:
				p.wide = true // withdraws calls in every frame, or ends the case
			case !localKind(t.Kind):
				p.wide = true
			}
		}
	case EvDone, EvFailed, EvRetry:
		if v, _ := s.inv(ev.Inv); v != nil {
			p.hadInv = true
			p.frame = v.Frame
			p.wide = v.Frame < 0 // a compensation or a hook's call
		}
	case EvSignal:
		// Decided after: buffered, an added instance, or a wait.
	default:
		p.wide = true
	}
	w.chain = w.chain[:0]
	for id := p.frame; id >= 0; {
		w.chain = append(w.chain, id)
		f := s.frame(id)
		if f == nil {
			break
		}
		id = f.Parent
	}
	return p
}

// localKind reports whether firing a transition of kind k changes only
// its own frame, the frames it starts and, through their completion,
// the frames it runs inside.
func localKind(k ir.TransKind) bool {
	switch k {
	case ir.TNop, ir.TAssign, ir.TReturn, ir.TTask, ir.TKernel, ir.TWorkflow, ir.TMulti, ir.TRoute, ir.TMarker, ir.TSignal, ir.TCancel, ir.TTimer:
		return true
	}
	return false
}

// after updates w for ev, applied to s, which p described before.
func (w *watch) after(s *State, ev *Event, p preEvent, live bool) {
	wide := p.wide || s.Status != p.status || s.Closing != p.closing
	if ev.Kind == EvSignal && !wide {
		switch {
		case len(s.Inbox) > p.inbox:
			// Buffered: no frame changed.
		case s.NextFrame > p.nextFrame:
			// A loop with more on started an instance: its frame is
			// the new frames' parent.
			for i := s.firstFrameFrom(p.nextFrame); i < len(s.Frames); i++ {
				w.markUp(s, s.Frames[i].Parent)
			}
		default:
			wide = true // a wait took it, somewhere
		}
	}
	if ev.Kind == EvFailed {
		w.noWait = false
	}
	if ev.Kind == EvArm {
		w.timerDue = min(w.timerDue, ev.Due)
	}
	for i := s.firstInvFrom(p.nextInv); w.noWait && i < len(s.Invs); i++ {
		w.noWait = !s.Invs[i].Waiting // a call that starts waiting (a sleep)
	}
	if ev.Kind == EvRetry && live {
		w.retried = append(w.retried, ev.Inv)
	}
	removed := p.invs + int(s.NextInv-p.nextInv) - len(s.Invs)
	if own := (ev.Kind == EvDone || ev.Kind == EvFailed) && p.hadInv && s.invAt(ev.Inv) < 0; own {
		removed--
	}
	if removed > 0 {
		w.dropped++
	}
	if wide {
		w.everything()
		return
	}
	// The event's frame and those it runs inside, as they were before:
	// the frame may have ended and changed its parent.
	for _, id := range w.chain {
		w.mark(id)
	}
	// New frames (instances, sub-workflows) have the highest ids.
	w.from = min(w.from, p.nextFrame)
}

// frameEvent returns the next event of frame f (see [Machine.work]);
// false when f has none.
func (e *Engine) frameEvent(ctx context.Context, s *State, f *Frame, now int64) (Event, bool) {
	c, ti, k := e.m.work(s, f)
	switch k {
	case workFire:
		return blame(s, f, e.fireEvent(ctx, s, f, c, ti, now)), true
	case workArm:
		return blame(s, f, e.armEvent(ctx, s, f, c, ti, now)), true
	case workWait:
		return Event{Kind: EvFire, Time: now, Frame: f.ID, Trans: ti}, true
	}
	return Event{}, false
}

// workKind says what a frame's next event does (see [Machine.work]).
type workKind uint8

const (
	workNone workKind = iota
	workFire          // an enabled transition fires
	workArm           // an enabled timer not yet armed is armed
	workWait          // an enabled wait takes a buffered signal
)

// work returns frame f's next work, without evaluating anything: its
// first enabled transition ti fires, else an enabled timer not yet armed
// is armed, else an enabled wait takes a buffered signal; workNone when
// f has none of these.
func (m *Machine) work(s *State, f *Frame) (*cnet, int32, workKind) {
	if !s.live(f) {
		return nil, 0, workNone
	}
	c := m.nets[f.Net]
	for _, ti := range c.order {
		if m.enabled(s, f, c, ti) {
			return c, ti, workFire
		}
	}
	for _, ti := range c.timed {
		if !armed(s, f.ID, ti) && m.enabled(s, f, c, ti) {
			return c, ti, workArm
		}
	}
	for _, ti := range c.waits {
		if !m.enabled(s, f, c, ti) {
			continue
		}
		for _, r := range s.Inbox {
			if r.Name == c.trans[ti].t.Label {
				return c, ti, workWait
			}
		}
	}
	return c, 0, workNone
}

// verify checks w against a pass over every frame and call: the first
// frame with work is the first that w may return, and no call waits when
// w says none does. It also checks each frame's count of its calls
// (Frame.calls), which the scheduler keeps by hand like w. Tests turn it on (Engine.checkWatch) so that every
// step of every engine test checks that the watch narrows without
// changing what the scheduler decides.
func (w *watch) verify(m *Machine, s *State) error {
	var want *Frame
	for _, f := range s.Frames {
		if _, _, k := m.work(s, f); k != workNone {
			want = f
			break
		}
	}
	if want != nil && want.ID < w.from && !w.in[want.ID] {
		return fmt.Errorf("watch: frame %d has work but is not watched (from %d)", want.ID, w.from)
	}
	if w.timersKnown {
		for _, t := range s.Timers {
			if t.Due < w.timerDue {
				return fmt.Errorf("watch: timer of frame %d due %d before the bound %d", t.Frame, t.Due, w.timerDue)
			}
		}
	}
	calls := map[int32]int32{}
	for _, v := range s.Invs {
		if v.Frame >= 0 {
			calls[v.Frame]++
		}
	}
	for _, f := range s.Frames {
		if f.calls != calls[f.ID] {
			return fmt.Errorf("frame %d counts %d calls but has %d", f.ID, f.calls, calls[f.ID])
		}
	}
	if w.noWait {
		for _, v := range s.Invs {
			if v.Waiting {
				return fmt.Errorf("watch: invocation %d waits but the watch says none does", v.ID)
			}
		}
	}
	return nil
}
