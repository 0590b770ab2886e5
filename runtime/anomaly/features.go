// This file implements the feature vector of a case.

package anomaly

import "math"

// features of a trace over an alphabet of size a: activity counts,
// directly-follows counts (with a start and an end symbol, so the first
// and last activity are pairs too), all as log1p, and the length.
func features(t []int, a int) []float64 {
	f := make([]float64, dim(a))
	for _, x := range t {
		f[x]++
	}
	df := f[a : a+(a+1)*(a+1)]
	prev := a // the start symbol
	for _, x := range t {
		df[prev*(a+1)+x]++
		prev = x
	}
	df[prev*(a+1)+a]++ // to the end symbol
	for i := range f {
		f[i] = math.Log1p(f[i])
	}
	f[len(f)-1] = math.Log1p(float64(len(t)))
	return f
}

func dim(a int) int { return a + (a+1)*(a+1) + 1 }
