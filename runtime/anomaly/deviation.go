// This file implements the deviation score: how much likelier a case's
// path is as one deviation from a training path than as a path of its
// own.

package anomaly

import (
	"math"
	"slices"
)

// Deviations scores a path by the ratio of the chance of reaching it by
// one deviation (a skip, an insert, a rework, a swap, an event moved
// early or late) from the training paths, weighted by how often they
// occur, to how often the training cases follow it. A rare path one
// step from a frequent one ("A C" beside a thousand "A B C") is more
// likely a frequent case that went wrong than a path of its own; a
// frequent path, or one far from any other, is not. This is what can
// flag a deviation whose path normal cases follow too, which no score
// of the steps alone can.
type Deviations struct {
	count map[string]float64
	n     float64
	acts  int
}

// TrainDeviations counts the paths of traces (alphabet of size acts).
func TrainDeviations(traces [][]int, acts int) *Deviations {
	d := &Deviations{count: map[string]float64{}, acts: acts}
	for _, t := range traces {
		d.count[key(t)]++
		d.n++
	}
	return d
}

// Score returns each trace's log ratio of its path's deviation mass to
// its count in training (both smoothed by half a case), at least 0.
func (d *Deviations) Score(traces [][]int) []float64 {
	out := make([]float64, len(traces))
	for i, t := range traces {
		m := d.mass(t)
		out[i] = max(0, math.Log((m+0.5)/(d.count[key(t)]+0.5)))
	}
	return out
}

// mass is the expected number of training cases that one deviation,
// of a kind drawn uniformly and placed uniformly, turns into q.
func (d *Deviations) mass(q []int) float64 {
	n := len(q)
	s := 0.0
	c := func(p []int) float64 { return d.count[key(p)] }
	// Skip: p is q with one more event.
	buf := make([]int, 0, n+1)
	for j := 0; j <= n; j++ {
		for a := range d.acts {
			buf = append(append(append(buf[:0], q[:j]...), a), q[j:]...)
			if x := c(buf); x > 0 {
				s += x / float64(n+1)
			}
		}
	}
	// Insert: p is q with one event less.
	for j := range n {
		buf = append(append(buf[:0], q[:j]...), q[j+1:]...)
		if x := c(buf); x > 0 {
			s += x / float64(n*d.acts)
		}
	}
	// Rework: q repeats a run of 1 to 3 events of p right after it.
	for l := 1; l <= 3; l++ {
		for i := 0; i+2*l <= n; i++ {
			if slices.Equal(q[i:i+l], q[i+l:i+2*l]) {
				buf = append(append(buf[:0], q[:i+l]...), q[i+2*l:]...)
				if x := c(buf); x > 0 {
					pn := n - l
					s += x / float64(min(3, pn)*(pn-l+1))
				}
			}
		}
	}
	// Swap: two different neighbours exchanged.
	for j := 0; j+1 < n; j++ {
		if q[j] != q[j+1] {
			buf = append(buf[:0], q...)
			buf[j], buf[j+1] = buf[j+1], buf[j]
			if x := c(buf); x > 0 {
				s += x / float64(n-1)
			}
		}
	}
	// Early and late: one event moved two or more places.
	if n >= 3 {
		pairs := float64(n * (n - 1) / 2)
		for j := range n {
			for i := range n {
				if i-j >= 2 || j-i >= 2 {
					buf = slices.Insert(slices.Delete(append(buf[:0], q...), j, j+1), i, q[j])
					if x := c(buf); x > 0 {
						s += x / pairs
					}
				}
			}
		}
	}
	return s / float64(len(Kinds))
}
