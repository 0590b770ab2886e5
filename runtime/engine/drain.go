// This file implements the drain join that ends a flow (ir.JoinDrain):
// a flow is over when a thread has reached its end and no other thread
// of it is still running.

package engine

// drains reports whether drain transition tr of frame f may fire: an
// input is marked, and no place of its region holds a token and no
// transition of its region is running a call or child case, so no
// further thread can reach the end.
func (m *Machine) drains(s *State, f *Frame, tr *ctrans) bool {
	marked := false
	for _, a := range tr.in {
		if f.Marking[a.place] > 0 {
			marked = true
		}
	}
	if !marked || len(tr.upPlaces) == 0 {
		return false
	}
	for _, q := range tr.upPlaces[0] {
		if f.Marking[q] > 0 {
			return false
		}
	}
	for _, t := range tr.upTrans[0] {
		if s.busy(f, t) {
			return false
		}
	}
	return true
}
