// This file implements the sum tree of the prioritised replay: a binary
// tree over the slots whose inner nodes hold the sum (and the minimum) of
// their leaves, so that sampling in proportion to priority and updating
// a priority both take O(log n).

package learn

import "math"

// sumTree holds one priority per slot of a fixed capacity.
type sumTree struct {
	n   int       // capacity: the number of leaves
	sum []float64 // 2n nodes, leaf i at n+i; node 0 unused
	min []float64
}

func newSumTree(n int) *sumTree {
	t := &sumTree{n: n, sum: make([]float64, 2*n), min: make([]float64, 2*n)}
	for i := range t.min {
		t.min[i] = math.Inf(1)
	}
	return t
}

// set makes p the priority of slot i.
func (t *sumTree) set(i int, p float64) {
	j := t.n + i
	t.sum[j], t.min[j] = p, p
	for j >>= 1; j >= 1; j >>= 1 {
		t.sum[j] = t.sum[2*j] + t.sum[2*j+1]
		t.min[j] = math.Min(t.min[2*j], t.min[2*j+1])
	}
}

// get returns the priority of slot i.
func (t *sumTree) get(i int) float64 { return t.sum[t.n+i] }

// total returns the sum of the priorities.
func (t *sumTree) total() float64 { return t.sum[1] }

// minimum returns the smallest priority of a filled slot.
func (t *sumTree) minimum() float64 { return t.min[1] }

// find returns the slot whose cumulative range holds u, for u in
// [0, total). The tree has a power-of-two shape only when n is a power
// of two, so find walks the implicit heap and falls back to the last
// positive leaf on rounding.
func (t *sumTree) find(u float64) int {
	j := 1
	for j < t.n {
		l := 2 * j
		if u < t.sum[l] || t.sum[l+1] == 0 {
			j = l
		} else {
			u -= t.sum[l]
			j = l + 1
		}
	}
	i := j - t.n
	for i > 0 && t.sum[t.n+i] == 0 {
		i--
	}
	return i
}
