// This file implements the lookups and removals that keep the cost of an
// event independent of the size of its case: a loop over n items runs n
// frames and n calls, and an event that touched each of them in turn
// would make the loop cost O(n²).

package engine

import (
	"cmp"
	"math"
	"slices"
)

// frameAt returns the position of frame id in s.Frames, -1 if there is
// none. Frames are kept in id order (newFrame appends with increasing
// ids, removal keeps the order, and DecodeState rejects any other
// order), so this is a binary search.
func (s *State) frameAt(id int32) int {
	if i := s.firstFrameFrom(id); i < len(s.Frames) && s.Frames[i].ID == id {
		return i
	}
	return -1
}

// firstFrameFrom returns the position of the first frame whose id is at
// least id, len(s.Frames) if there is none.
func (s *State) firstFrameFrom(id int32) int {
	i, _ := slices.BinarySearchFunc(s.Frames, id, func(f *Frame, id int32) int { return cmp.Compare(f.ID, id) })
	return i
}

// invAt returns the position of invocation id in s.Invs, -1 if there is
// none. Invocations are kept in id order, like frames.
func (s *State) invAt(id int32) int {
	if i := s.firstInvFrom(id); i < len(s.Invs) && s.Invs[i].ID == id {
		return i
	}
	return -1
}

// firstInvFrom returns the position of the first invocation whose id is
// at least id, len(s.Invs) if there is none.
func (s *State) firstInvFrom(id int32) int {
	i, _ := slices.BinarySearchFunc(s.Invs, id, func(v *Inv, id int32) int { return cmp.Compare(v.ID, id) })
	return i
}

// removeAt deletes xs[i], keeping the order of the rest, by moving the
// shorter side: the instances of a loop tend to end in the order they
// started, so the element removed is usually near the front, and
// removing it costs O(1) instead of moving every later element.
func removeAt[T any](xs []T, i int) []T {
	var zero T
	if i < len(xs)/2 {
		copy(xs[1:i+1], xs[:i])
		xs[0] = zero
		return xs[1:]
	}
	copy(xs[i:], xs[i+1:])
	xs[len(xs)-1] = zero
	return xs[:len(xs)-1]
}

// sortedByID reports whether frames and invocations are in increasing id
// order, and timers in frame and transition order, which the lookups
// rely on.
func sortedByID(s *State) bool {
	return slices.IsSortedFunc(s.Frames, func(a, b *Frame) int { return cmp.Compare(a.ID, b.ID) }) &&
		slices.IsSortedFunc(s.Invs, func(a, b *Inv) int { return cmp.Compare(a.ID, b.ID) }) &&
		slices.IsSortedFunc(s.Timers, cmpTimer)
}

// addInv adds v, a new invocation of frame f, to s.Invs. f counts its
// calls so that dropping a frame looks for calls to drop only when it
// has some.
func (s *State) addInv(f *Frame, v *Inv) {
	s.Invs = append(s.Invs, v)
	f.calls++
}

// uncount records that invocation v has left s.Invs.
func (s *State) uncount(v *Inv) {
	if v.Frame < 0 {
		return
	}
	if f := s.frame(v.Frame); f != nil && f.calls > 0 {
		f.calls--
	}
}

// recount sets every frame's count of calls from s.Invs (a decoded
// snapshot does not carry it).
func recount(s *State) {
	for _, f := range s.Frames {
		f.calls = 0
	}
	for _, v := range s.Invs {
		if f := s.frame(v.Frame); f != nil && v.Frame >= 0 {
			f.calls++
		}
	}
}

// cmpTimer orders timers by frame, then transition: State.Timers is kept
// in that order, so that a frame's timers are found by binary search.
func cmpTimer(a, b Timer) int {
	if c := cmp.Compare(a.Frame, b.Frame); c != 0 {
		return c
	}
	return cmp.Compare(a.Trans, b.Trans)
}

// timerAt returns where the timer of transition trans of frame is in
// s.Timers, or would be inserted, and whether it is armed.
func (s *State) timerAt(frame, trans int32) (int, bool) {
	return slices.BinarySearchFunc(s.Timers, Timer{Frame: frame, Trans: trans}, cmpTimer)
}

// frameTimers returns the range [i, j) of s.Timers that holds the timers
// of frame.
func (s *State) frameTimers(frame int32) (int, int) {
	i, _ := s.timerAt(frame, math.MinInt32)
	j := i
	for j < len(s.Timers) && s.Timers[j].Frame == frame {
		j++
	}
	return i, j
}

// sortTimers puts s.Timers in frame and transition order.
func sortTimers(s *State) { slices.SortFunc(s.Timers, cmpTimer) }

// FrameByID returns the frame of s with id, nil if there is none. Like
// the engine's own lookups it is a binary search, so that a reader of a
// case's history (runtime/history) pays O(log n) per event, not O(n).
func (s *State) FrameByID(id int32) *Frame { return s.frame(id) }

// InvByID returns the invocation of s with id, nil if there is none.
func (s *State) InvByID(id int32) *Inv {
	v, _ := s.inv(id)
	return v
}

// InvsFrom returns the invocations of s whose id is at least id, in id
// order; the slice shares s.Invs.
func (s *State) InvsFrom(id int32) []*Inv { return s.Invs[s.firstInvFrom(id):] }
