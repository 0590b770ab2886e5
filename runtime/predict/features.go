// This file implements the feature vector of a prefix.

package predict

import (
	"math"
	"time"
)

// encoder turns a prefix into standardised features: the last three
// activities (one-hot), how often each activity occurred so far, the
// prefix length, the time since the case started and since the last
// event, and the hour of day and weekday of the last event (as angles,
// so that midnight and Sunday wrap).
type encoder struct {
	A         int // activities
	Mean, Std []float64
}

// history is how many of the last activities are features.
const history = 3

func (e *encoder) dim() int { return e.A + (history-1)*(e.A+1) + e.A + 7 }

func hours(d time.Duration) float64 { return math.Log1p(max(d.Hours(), 0)) }

// raw writes the unscaled features of p into f.
func (e *encoder) raw(f []float64, p Prefix) {
	clear(f)
	c, k, A := p.Case, p.K, e.A
	f[c.Acts[k-1]] = 1
	for back, off := 2, A; back <= history; back, off = back+1, off+A+1 {
		if k-back >= 0 {
			f[off+c.Acts[k-back]] = 1
		} else {
			f[off+A] = 1 // none
		}
	}
	h := A + (history-1)*(A+1)
	counts := f[h : h+A]
	for _, a := range c.Acts[:k] {
		counts[a]++
	}
	for i := range counts {
		counts[i] = math.Log1p(counts[i])
	}
	rest := f[h+A:]
	last := c.Times[k-1]
	rest[0] = math.Log1p(float64(k))
	rest[1] = hours(last.Sub(c.Times[0]))
	if k > 1 {
		rest[2] = hours(last.Sub(c.Times[k-2]))
	}
	hr := (float64(last.Hour()) + float64(last.Minute())/60) / 24 * 2 * math.Pi
	w := float64(last.Weekday()) / 7 * 2 * math.Pi
	rest[3], rest[4] = math.Sin(hr), math.Cos(hr)
	rest[5], rest[6] = math.Sin(w), math.Cos(w)
}

// fit sets the scaling from the prefixes.
func (e *encoder) fit(ps []Prefix) {
	n := e.dim()
	e.Mean, e.Std = make([]float64, n), make([]float64, n)
	f := make([]float64, n)
	for _, p := range ps {
		e.raw(f, p)
		for i, v := range f {
			e.Mean[i] += v
			e.Std[i] += v * v
		}
	}
	for i := range e.Mean {
		m := e.Mean[i] / float64(len(ps))
		v := e.Std[i]/float64(len(ps)) - m*m
		e.Mean[i], e.Std[i] = m, math.Sqrt(max(v, 0))
		if e.Std[i] < 1e-9 {
			e.Std[i] = 1
		}
	}
}

// encode writes the scaled features of p into f.
func (e *encoder) encode(f []float64, p Prefix) {
	e.raw(f, p)
	for i := range f {
		f[i] = (f[i] - e.Mean[i]) / e.Std[i]
	}
}
