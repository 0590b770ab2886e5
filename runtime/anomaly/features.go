// This file implements the feature vector of a case.

package anomaly

import "math"

// featurizer maps traces over an alphabet of size a to features:
// activity counts, counts of each directly-follows pair that occurs in
// the log (with a start and an end symbol, so the first and last
// activity are pairs too), all as log1p, and the length. Only pairs the
// log has get a column: of the (a+1)² possible pairs most never occur,
// and a network over them all would be mostly zeros.
type featurizer struct {
	a     int
	pairs map[[2]int]int // pair -> column
	tris  map[[3]int]bool
	// dur, when the traces have times, adds two durations: the case's
	// (log(1 + seconds) from its first event to its last) and its least
	// likely gap ([Durations.Score]).
	dur *Durations
}

func newFeaturizer(traces [][]int, a int) *featurizer {
	f := &featurizer{a: a, pairs: map[[2]int]int{}, tris: map[[3]int]bool{}}
	for _, t := range traces {
		walkGrams(t, func(x, y, z int) { f.tris[[3]int{x, y, z}] = true })
		f.walk(t, func(p [2]int) {
			if _, ok := f.pairs[p]; !ok {
				f.pairs[p] = a + len(f.pairs)
			}
		})
	}
	return f
}

func (f *featurizer) walk(t []int, visit func([2]int)) {
	prev := f.a // the start symbol
	for _, x := range t {
		visit([2]int{prev, x})
		prev = x
	}
	visit([2]int{prev, f.a + 1}) // to the end symbol
}

// dim is the width of a feature vector: the activity counts, the pairs,
// the counts of pairs and of triples the training traces never have,
// and the length.
func (f *featurizer) dim() int {
	if f.dur != nil {
		return f.a + len(f.pairs) + 5
	}
	return f.a + len(f.pairs) + 3
}

// features writes t's features into v; ts are its times (nil for a
// featurizer without durations).
func (f *featurizer) features(v []float64, t []int, ts []float64) {
	clear(v)
	for _, x := range t {
		if x < f.a {
			v[x]++
		}
	}
	f.walk(t, func(p [2]int) {
		if c, ok := f.pairs[p]; ok {
			v[c]++
		} else {
			v[len(v)-3]++
		}
	})
	walkGrams(t, func(x, y, z int) {
		if !f.tris[[3]int{x, y, z}] {
			v[len(v)-2]++
		}
	})
	for i := range v {
		v[i] = math.Log1p(v[i])
	}
	v[len(v)-1] = math.Log1p(float64(len(t)))
	if f.dur != nil && len(ts) > 0 {
		c := f.a + len(f.pairs)
		v[c] = math.Log1p(max(0, ts[len(ts)-1]-ts[0]))
		v[c+1] = f.dur.least(t, ts)
	}
}
