// This file implements token-based replay: fitness (Rozinat and van der
// Aalst) and ETC precision (Muñoz-Gama and Carmona), with silent
// transitions fired as needed, as pm4py does.

package discover

import (
	"slices"
	"strings"
)

// Score is how well a model and a log agree.
type Score struct {
	// Fitness is ½(1 − missing/consumed) + ½(1 − remaining/produced)
	// over all traces: 1 when every trace replays without a missing or
	// leftover token.
	Fitness float64
	// FitTraces is the fraction of traces that replay perfectly.
	FitTraces float64
	// Precision is 1 − escaping/allowed over the prefixes of fitting
	// traces: the share of what the model allows after a prefix that the
	// log does follow it with.
	Precision float64
}

type marking []int

func (m marking) key() string {
	var b strings.Builder
	for _, x := range m {
		b.WriteByte(byte(x))
		b.WriteByte(byte(x >> 8))
	}
	return b.String()
}

func (p *net) enabled(m marking, t int) bool {
	for _, q := range p.trans[t].in {
		if m[q] == 0 {
			return false
		}
	}
	return true
}

// fire fires t, returning how many tokens it consumed and produced.
func (p *net) fire(m marking, t int) (int, int) {
	for _, q := range p.trans[t].in {
		m[q]--
	}
	for _, q := range p.trans[t].out {
		m[q]++
	}
	return len(p.trans[t].in), len(p.trans[t].out)
}

// silentBudget bounds the work of one search for silent transitions.
const silentBudget = 20000

// distances returns, for each place, how many silent transitions it
// takes at least to put a token there from the tokens of m (-1: it
// cannot be done); a transition needs all of its input places.
func (p *net) distances(m marking) []int {
	d := make([]int, p.places)
	for q := range d {
		d[q] = -1
		if m[q] > 0 {
			d[q] = 0
		}
	}
	for changed := true; changed; {
		changed = false
		for _, t := range p.trans {
			if t.label != "" {
				continue
			}
			w := 0
			for _, q := range t.in {
				if d[q] < 0 {
					w = -1
					break
				}
				w = max(w, d[q])
			}
			if w < 0 {
				continue
			}
			for _, q := range t.out {
				if d[q] < 0 || d[q] > w+1 {
					d[q] = w + 1
					changed = true
				}
			}
		}
	}
	return d
}

// search puts tokens where they are needed by firing silent
// transitions backwards from the need: a token for place q comes from
// the silent transition into q whose inputs are nearest to the tokens
// there are, after tokens for those inputs.
type search struct {
	p        *net
	dist     []int
	visiting []bool
	budget   int
	fired    []int
}

func (p *net) newSearch(m marking) *search {
	return &search{p: p, dist: p.distances(m), visiting: make([]bool, p.places), budget: silentBudget}
}

// produce makes m hold a token in q, appending the silent transitions it
// fires to s.fired; m is unchanged when it returns false.
func (s *search) produce(m marking, q int) bool {
	if m[q] > 0 {
		return true
	}
	if s.visiting[q] || s.dist[q] < 0 || s.budget <= 0 {
		return false
	}
	s.budget--
	s.visiting[q] = true
	defer func() { s.visiting[q] = false }()
	for _, t := range s.p.producers(q, s.dist) {
		trial := append(marking(nil), m...)
		n := len(s.fired)
		ok := true
		for _, in := range s.p.trans[t].in {
			if !s.produce(trial, in) {
				ok = false
				break
			}
		}
		if ok && s.p.enabled(trial, t) {
			s.p.fire(trial, t)
			s.fired = append(s.fired, t)
			copy(m, trial)
			return true
		}
		s.fired = s.fired[:n]
	}
	return false
}

// enable makes visible transition t enabled in m by silent transitions.
func (s *search) enable(m marking, t int) bool {
	trial := append(marking(nil), m...)
	n := len(s.fired)
	for _, q := range s.p.trans[t].in {
		if !s.produce(trial, q) {
			s.fired = s.fired[:n]
			return false
		}
	}
	if !s.p.enabled(trial, t) { // two inputs competing for one token
		s.fired = s.fired[:n]
		return false
	}
	copy(m, trial)
	return true
}

// producers returns the silent transitions into q whose inputs can all
// be marked, nearest first.
func (p *net) producers(q int, dist []int) []int {
	var out []int
	var w []int
	for _, t := range p.into[q] {
		far := 0
		for _, in := range p.trans[t].in {
			if dist[in] < 0 {
				far = -1
				break
			}
			far = max(far, dist[in])
		}
		if far < 0 {
			continue
		}
		i := len(out)
		for i > 0 && w[i-1] > far {
			i--
		}
		out = slices.Insert(out, i, t)
		w = slices.Insert(w, i, far)
	}
	return out
}

// visible returns the labels of the visible transitions that m enables
// directly or after silent transitions.
func (p *net) visible(m marking) map[string]bool {
	out := map[string]bool{}
	s := p.newSearch(m)
	for t, tr := range p.trans {
		if tr.label != "" && !out[tr.label] && s.enable(append(marking(nil), m...), t) {
			out[tr.label] = true
		}
	}
	return out
}

// replayer replays traces on a net, keeping the counts.
type replayer struct {
	p                                      *net
	missing, consumed, remaining, produced int
}

// step replays one activity from m: fired directly when enabled, after
// silent transitions when they enable it, else with the missing tokens
// added. ok is false when tokens were missing (or the activity is not in
// the model).
func (r *replayer) step(m marking, a string) (ok bool) {
	ts := r.p.byLabel[a]
	if len(ts) == 0 {
		r.missing++ // an activity the model lacks: one missing token
		r.consumed++
		return false
	}
	for _, t := range ts {
		if r.p.enabled(m, t) {
			r.fireCount(m, t)
			return true
		}
	}
	for _, t := range ts {
		s := r.p.newSearch(m)
		if s.enable(m, t) {
			r.countSilent(s.fired)
			r.fireCount(m, t)
			return true
		}
	}
	t := ts[0]
	for _, q := range r.p.trans[t].in {
		if m[q] == 0 {
			m[q]++
			r.missing++
		}
	}
	r.fireCount(m, t)
	return false
}

// countSilent counts the tokens that silent transitions, already fired
// on the marking, consumed and produced.
func (r *replayer) countSilent(ts []int) {
	for _, t := range ts {
		r.consumed += len(r.p.trans[t].in)
		r.produced += len(r.p.trans[t].out)
	}
}

func (r *replayer) fireCount(m marking, t int) {
	c, pr := r.p.fire(m, t)
	r.consumed += c
	r.produced += pr
}

// finish moves m to the final marking through silent transitions when it
// can, and counts the end token and what is left.
func (r *replayer) finish(m marking) (ok bool) {
	s := r.p.newSearch(m)
	if s.produce(m, r.p.end) {
		r.countSilent(s.fired)
	}
	ok = true
	if m[r.p.end] == 0 {
		r.missing++
		ok = false
	} else {
		m[r.p.end]--
	}
	r.consumed++
	for _, n := range m {
		r.remaining += n
		if n > 0 {
			ok = false
		}
	}
	return ok
}

// Evaluate replays every trace of l on the tree's net and returns the
// fitness and precision.
func Evaluate(tree *Node, l *Log) Score {
	p := netOf(tree)
	r := &replayer{p: p}
	fit, total := 0, 0
	// Prefix statistics for precision: for each prefix (as a key), the
	// activities that follow it in the log, how many traces pass through
	// it, and what the model enables after it.
	type prefix struct {
		next    map[string]bool
		count   int
		allowed map[string]bool
	}
	prefixes := map[string]*prefix{}
	var order []string
	for _, t := range l.Traces {
		m := make(marking, p.places)
		m[p.source] = 1
		r.produced += t.Count // the source token
		okSoFar := true
		var key strings.Builder
		for i := 0; i <= len(t.Acts); i++ {
			k := key.String()
			// A prefix counts where a trace goes on after it: ETC
			// scores the choices of next activity, not the end.
			if okSoFar && i < len(t.Acts) {
				pf := prefixes[k]
				if pf == nil {
					pf = &prefix{next: map[string]bool{}, allowed: p.visible(m)}
					prefixes[k] = pf
					order = append(order, k)
				}
				pf.count += t.Count
				pf.next[l.Names[t.Acts[i]]] = true
			}
			if i == len(t.Acts) {
				break
			}
			before := *r
			ok := r.step(m, l.Names[t.Acts[i]])
			r.scale(before, t.Count)
			okSoFar = okSoFar && ok
			key.WriteString(l.Names[t.Acts[i]])
			key.WriteByte(0)
		}
		before := *r
		ok := r.finish(m)
		r.scale(before, t.Count)
		if ok && okSoFar {
			fit += t.Count
		}
		total += t.Count
	}
	var s Score
	if r.consumed > 0 && r.produced > 0 {
		s.Fitness = 0.5*(1-float64(r.missing)/float64(r.consumed)) + 0.5*(1-float64(r.remaining)/float64(r.produced))
	}
	if total > 0 {
		s.FitTraces = float64(fit) / float64(total)
	}
	allowed, escaping := 0, 0
	for _, k := range order {
		pf := prefixes[k]
		allowed += pf.count * len(pf.allowed)
		for a := range pf.allowed {
			if !pf.next[a] {
				escaping += pf.count
			}
		}
	}
	s.Precision = 1
	if allowed > 0 {
		s.Precision = 1 - float64(escaping)/float64(allowed)
	}
	return s
}

// scale multiplies the counts added since before by c (a variant stands
// for c traces).
func (r *replayer) scale(before replayer, c int) {
	r.missing = before.missing + (r.missing-before.missing)*c
	r.consumed = before.consumed + (r.consumed-before.consumed)*c
	r.remaining = before.remaining + (r.remaining-before.remaining)*c
	r.produced = before.produced + (r.produced-before.produced)*c
}
