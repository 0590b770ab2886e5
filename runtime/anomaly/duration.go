// This file implements the duration score: how unusual the time
// between each two consecutive events of a case is for that step.

package anomaly

import "math"

// Durations models the gap between consecutive events, for each step
// (previous activity, activity), as a histogram of log(1 + seconds)
// learned on training traces. A skipped event leaves its neighbours
// the sum of two gaps, an inserted one splits a gap, a swap puts the
// gap of one step where another is usual, a moved event's gaps are
// drawn where it landed: the control-flow detectors see none of that
// when the changed path is one normal cases follow too (under the
// plain protocol, a third of bpi_12_w's injections).
type Durations struct {
	pair map[[2]int]*gapHist
	act  map[int]*gapHist // by the later activity: for a step seldom seen
	all  *gapHist
}

// gapBins and gapBinWidth: bins of log(1 + seconds), half a unit wide
// (a factor of 1.65), the last open: up to e^19.5 s, 9 years.
const (
	gapBins     = 40
	gapBinWidth = 0.5
	// gapPrior is the weight, in events, of the coarser histogram a
	// step's own is shrunk to: a step seen a few times is mostly judged
	// by its activity's gaps, one seen thousands of times by its own.
	gapPrior = 4
)

type gapHist struct {
	n float64
	c [gapBins]float64
}

func gapBin(g float64) int {
	return min(gapBins-1, int(math.Log1p(max(g, 0))/gapBinWidth))
}

// add counts gap g, spread over its bin and the neighbouring ones (a
// gap at the edge of a bin is as usual one bin over).
func (h *gapHist) add(g float64) {
	b := gapBin(g)
	for d, w := range [3]float64{0.25, 0.5, 0.25} {
		j := min(gapBins-1, max(0, b+d-1))
		h.c[j] += w
	}
	h.n++
}

// TrainDurations learns the gaps of each step of traces (times in
// seconds, parallel to the activities). Nil times give a model that
// scores every trace zero.
func TrainDurations(traces [][]int, times [][]float64) *Durations {
	d := &Durations{pair: map[[2]int]*gapHist{}, act: map[int]*gapHist{}, all: &gapHist{}}
	if times == nil {
		return d
	}
	for i, t := range traces {
		ts := times[i]
		for j := 1; j < len(t); j++ {
			g := ts[j] - ts[j-1]
			p := [2]int{t[j-1], t[j]}
			for _, h := range []*gapHist{histOf(d.pair, p), histOf(d.act, t[j]), d.all} {
				h.add(g)
			}
		}
	}
	return d
}

// histOf returns m's histogram for k, adding an empty one when m has none.
func histOf[K comparable](m map[K]*gapHist, k K) *gapHist {
	h := m[k]
	if h == nil {
		h = &gapHist{}
		m[k] = h
	}
	return h
}

// prob is the probability of bin b for a step whose later activity's
// histogram is act and whose own is pair (nil when unseen): the step's
// histogram shrunk to the later activity's, shrunk in turn to all
// gaps', with one pseudo-event spread over all bins.
func (d *Durations) prob(act, pair *gapHist, b int) float64 {
	p := (d.all.c[b] + 1.0/gapBins) / (d.all.n + 1)
	if act != nil {
		p = (act.c[b] + gapPrior*p) / (act.n + gapPrior)
	}
	if pair != nil {
		p = (pair.c[b] + gapPrior*p) / (pair.n + gapPrior)
	}
	return p
}

// Score returns each trace's least likely gap: the largest over its
// steps of -log of the two-sided tail probability of the gap's bin
// under the step's histogram (the bin itself counted half on each
// side), so that a gap far longer or far shorter than the step usually
// takes scores high, whether the step's gaps vary widely or not. Traces
// without times score zero. (Chosen on injections into training traces
// over the bin's -log-probability less the step's entropy, the sum over
// steps, the upper tail alone and a tail corrected for the number of
// steps: the two-sided tail separated best on three of the four shared
// logs.)
func (d *Durations) Score(traces [][]int, times [][]float64) []float64 {
	out := make([]float64, len(traces))
	if times == nil {
		return out
	}
	for i, t := range traces {
		out[i] = d.least(t, times[i])
	}
	return out
}

// least is [Durations.Score] of one trace t with times ts: its least
// likely gap's score (zero for a model without gaps).
func (d *Durations) least(t []int, ts []float64) float64 {
	s := 0.0
	if d.all.n == 0 {
		return s
	}
	for j := 1; j < len(t); j++ {
		b := gapBin(ts[j] - ts[j-1])
		// The step's histograms, looked up once for all its bins.
		act, pair := d.act[t[j]], d.pair[[2]int{t[j-1], t[j]}]
		lo, hi := 0.0, 0.0
		for c := range gapBins {
			p := d.prob(act, pair, c)
			switch {
			case c < b:
				lo += p
			case c > b:
				hi += p
			default:
				lo += p / 2
				hi += p / 2
			}
		}
		s = max(s, -math.Log(min(1, 2*min(lo, hi))))
	}
	return s
}
