// This file implements binning: each feature's values are replaced by
// the index of the quantile bin they fall in, so that finding a split
// is a pass over a small histogram instead of a sort.

package gbt

import (
	"slices"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// maxBins is the number of bins a feature is cut into at most; a bin
// index fits a byte.
const maxBins = 255

// Bins holds the cut points of each feature: value v of feature f falls
// in bin i where Cuts[f][i-1] < v <= Cuts[f][i].
type Bins struct {
	Cuts [][]float64
}

// NewBins chooses up to maxBins cut points per feature (column of x)
// at its distinct quantiles.
func NewBins(x *mat.Dense) *Bins {
	rows, cols := x.Dims()
	b := &Bins{Cuts: make([][]float64, cols)}
	v := make([]float64, rows)
	for f := range cols {
		mat.Col(v, f, x)
		slices.Sort(v)
		u := slices.Compact(slices.Clone(v))
		var cuts []float64
		if len(u) <= maxBins {
			// A cut halfway between neighbouring distinct values.
			for i := 0; i+1 < len(u); i++ {
				cuts = append(cuts, (u[i]+u[i+1])/2)
			}
		} else {
			for q := 1; q < maxBins; q++ {
				c := v[q*rows/maxBins]
				if len(cuts) == 0 || c > cuts[len(cuts)-1] {
					cuts = append(cuts, c)
				}
			}
		}
		b.Cuts[f] = cuts
	}
	return b
}

// bin returns the bin of value v of feature f.
func (b *Bins) bin(f int, v float64) uint8 {
	return uint8(sort.SearchFloat64s(b.Cuts[f], v))
}

// apply bins the rows of x into a row-major matrix of bin indices.
func (b *Bins) apply(x *mat.Dense) []uint8 {
	rows, cols := x.Dims()
	out := make([]uint8, 0, rows*cols)
	for i := range rows {
		for f, v := range x.RawRowView(i) {
			out = append(out, b.bin(f, v))
		}
	}
	return out
}
