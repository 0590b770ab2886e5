// This file implements the next-event likelihood score: a
// variable-order Markov model of the activity sequences.

package anomaly

import "math"

// Markov is a variable-order Markov model of activity sequences
// (Witten-Bell interpolation of the orders 0 to Order): the probability
// of each event, and of the end, given up to Order activities before
// it. A history seen often with few continuations gives an unseen next
// step almost no probability; a history seen rarely leans on the
// shorter ones. This is the next-event likelihood of BINet (Nolle et
// al., 2018) with counts in place of a network.
type Markov struct {
	Order int
	ctx   map[string]*nextCounts // history (up to Order activities, start-padded) -> next activity counts
	uni   map[int]float64
	n     float64
	vocab float64
}

type nextCounts struct {
	total float64
	c     map[int]float64
}

// TrainMarkov counts the continuations of every history of up to order
// activities in traces (alphabet of size acts).
func TrainMarkov(traces [][]int, acts, order int) *Markov {
	m := &Markov{Order: order, ctx: map[string]*nextCounts{}, uni: map[int]float64{}, vocab: float64(acts + 2)}
	for _, t := range traces {
		m.walk(t, func(hist []int, x int) {
			m.uni[x]++
			m.n++
			for k := 1; k <= order; k++ {
				h := key(hist[len(hist)-k:])
				nc := m.ctx[h]
				if nc == nil {
					nc = &nextCounts{c: map[int]float64{}}
					m.ctx[h] = nc
				}
				nc.c[x]++
				nc.total++
			}
		})
	}
	return m
}

// walk calls f with the history (order start symbols, then the events
// before it) and the symbol of each event of t and of its end.
func (m *Markov) walk(t []int, f func(hist []int, x int)) {
	p := make([]int, 0, m.Order+len(t)+1)
	for range m.Order {
		p = append(p, gramStart&0xffff)
	}
	p = append(p, t...)
	p = append(p, gramEnd&0xffff)
	for i := m.Order; i < len(p); i++ {
		f(p[:i], p[i])
	}
}

// prob is the interpolated probability of x after hist.
func (m *Markov) prob(hist []int, x int) float64 {
	p := (m.uni[x] + 1) / (m.n + m.vocab)
	for k := 1; k <= m.Order; k++ {
		nc := m.ctx[key(hist[len(hist)-k:])]
		if nc == nil {
			break
		}
		types := float64(len(nc.c))
		p = (nc.c[x] + types*p) / (nc.total + types)
	}
	return p
}

// Score returns each trace's least likely event's (or end's) negative
// log-probability.
func (m *Markov) Score(traces [][]int) []float64 {
	out := make([]float64, len(traces))
	for i, t := range traces {
		m.walk(t, func(hist []int, x int) {
			out[i] = max(out[i], -math.Log(m.prob(hist, x)))
		})
	}
	return out
}
