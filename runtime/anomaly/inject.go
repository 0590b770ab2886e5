// This file implements injecting labelled anomalies into traces.

package anomaly

import (
	"math/rand/v2"
	"slices"
)

// Kind is a kind of anomaly.
type Kind int

const (
	Normal Kind = iota
	Skip
	Insert
	Rework
	Swap
	Early
	Late
)

var kindNames = [...]string{"normal", "skip", "insert", "rework", "swap", "early", "late"}

func (k Kind) String() string { return kindNames[k] }

// Kinds are the anomalies Inject makes, in turn.
var Kinds = []Kind{Skip, Insert, Rework, Swap, Early, Late}

// Inject returns a copy of traces (activity numbers, alphabet of size
// acts) in which the given share of traces (at least one), chosen at
// random, has one anomaly each, the kinds taken in turn, and the label
// of every trace.
// A trace too short for a kind gets the next kind that fits (insert
// fits every trace).
func Inject(traces [][]int, acts int, share float64, rng *rand.Rand) ([][]int, []Kind) {
	out := make([][]int, len(traces))
	labels := make([]Kind, len(traces))
	for i, t := range traces {
		out[i] = slices.Clone(t)
	}
	n := int(share * float64(len(traces)))
	if n == 0 && share > 0 && len(traces) > 0 {
		n = 1 // a small held-out set still gets one to find
	}
	next := 0
	for _, i := range rng.Perm(len(traces))[:n] {
		for try := 0; try < len(Kinds); try++ {
			k := Kinds[(next+try)%len(Kinds)]
			if t, ok := apply(out[i], k, acts, rng); ok {
				out[i], labels[i] = t, k
				break
			}
		}
		next++
	}
	return out, labels
}

// apply makes anomaly k in t; ok is false when t is too short for it.
func apply(t []int, k Kind, acts int, rng *rand.Rand) ([]int, bool) {
	n := len(t)
	switch k {
	case Skip:
		if n < 2 {
			return nil, false
		}
		i := rng.IntN(n)
		return slices.Delete(slices.Clone(t), i, i+1), true
	case Insert:
		return slices.Insert(slices.Clone(t), rng.IntN(n+1), rng.IntN(acts)), true
	case Rework:
		if n < 1 {
			return nil, false
		}
		l := 1 + rng.IntN(min(3, n))
		i := rng.IntN(n - l + 1)
		return slices.Insert(slices.Clone(t), i+l, t[i:i+l]...), true
	case Swap:
		for range 10 {
			if n < 2 {
				break
			}
			i := rng.IntN(n - 1)
			if t[i] != t[i+1] {
				c := slices.Clone(t)
				c[i], c[i+1] = c[i+1], c[i]
				return c, true
			}
		}
		return nil, false
	case Early, Late:
		if n < 3 {
			return nil, false
		}
		// Move an event by 2 or more places, to a place where the trace
		// changes.
		for range 10 {
			i := rng.IntN(n)
			var j int
			if k == Early {
				if i < 2 {
					continue
				}
				j = rng.IntN(i - 1) // 0 .. i-2
			} else {
				if i > n-3 {
					continue
				}
				j = i + 2 + rng.IntN(n-i-2) // i+2 .. n-1
			}
			c := slices.Delete(slices.Clone(t), i, i+1)
			c = slices.Insert(c, j, t[i])
			if !slices.Equal(c, t) {
				return c, true
			}
		}
		return nil, false
	}
	return nil, false
}
