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
// fits every trace). Every injection is kept, even one that turns the
// trace into a path normal traces follow: the plain protocol. See
// [InjectNovel] for the protocol that draws such an injection again.
func Inject(traces [][]int, acts int, share float64, rng *rand.Rand) ([][]int, []Kind) {
	out, _, labels := inject(traces, nil, acts, share, nil, rng)
	return out, labels
}

// InjectNovel is [Inject] under the novel protocol: an anomalous trace
// is one whose activity sequence no normal trace follows. An injection
// whose sequence is one of known (sets of [PathKey]s: the paths of the
// log's traces as they were) is drawn again, at another position, up
// to novelDraws times, then on the next trace of the random draw (the
// kinds stay in turn, as under [Inject]); only a kind that no trace can
// take with a new path gives way to the next kind. The share holds
// while enough traces can take an anomaly. A detector that reads the activity sequence cannot
// tell an injection that gives a normal path from a normal case: under
// the plain protocol such injections are labelled anomalies all the
// same and cap the recall (on bpi_12_w, whose work items repeat, most
// skips give a usual path).
func InjectNovel(traces [][]int, acts int, share float64, known map[string]bool, rng *rand.Rand) ([][]int, []Kind) {
	if known == nil {
		known = map[string]bool{}
	}
	out, _, labels := inject(traces, nil, acts, share, known, rng)
	return out, labels
}

// InjectTimed is [Inject] (known nil) or [InjectNovel] on traces with
// the times of their events (seconds), and returns the times of the
// changed traces too. Times change as the anomaly says, as a real case
// would have them, and at the log's clock (whole minutes, seconds or
// milliseconds), so that nothing but the anomaly tells an injected
// case: a skipped event leaves the gap between its neighbours; an
// inserted one, or one moved earlier or later, gets a time drawn
// between its new neighbours' (before the first or after the last
// event: a gap the log has for that step); a swap exchanges two
// activities and keeps the times where they were; a repeated run
// follows the original one by gaps the log has for its steps, and every
// later event keeps its time of day and moves by whole days, as many as
// the repeat took or a few more (see clock.rework). Every time drawn or
// moved keeps the log's weekly rhythm (see clock).
func InjectTimed(traces [][]int, times [][]float64, acts int, share float64, known map[string]bool, rng *rand.Rand) ([][]int, [][]float64, []Kind) {
	return inject(traces, times, acts, share, known, rng)
}

// novelDraws is how many positions InjectNovel tries per kind before
// it takes the next kind.
const novelDraws = 20

// PathKey is the key of an activity sequence in the known paths of
// [InjectNovel].
func PathKey(t []int) string { return key(t) }

// KnownPaths returns the set of paths of traces, for [InjectNovel].
func KnownPaths(traces [][]int) map[string]bool {
	m := make(map[string]bool, len(traces))
	for _, t := range traces {
		m[key(t)] = true
	}
	return m
}

// inject is Inject (known nil: every injection kept) and InjectNovel,
// with times or without (times nil).
func inject(traces [][]int, times [][]float64, acts int, share float64, known map[string]bool, rng *rand.Rand) ([][]int, [][]float64, []Kind) {
	out := make([][]int, len(traces))
	labels := make([]Kind, len(traces))
	for i, t := range traces {
		out[i] = slices.Clone(t)
	}
	var outT [][]float64
	ck := newClock(traces, times)
	tsOf := func(i int) []float64 { return nil }
	if times != nil {
		outT = make([][]float64, len(times))
		for i, ts := range times {
			outT[i] = slices.Clone(ts)
		}
		tsOf = func(i int) []float64 { return outT[i] }
	}
	set := func(i int, c event) {
		out[i] = c.acts
		if outT != nil {
			outT[i] = c.times
		}
	}
	n := int(share * float64(len(traces)))
	if n == 0 && share > 0 && len(traces) > 0 {
		n = 1 // a small held-out set still gets one to find
	}
	perm := rng.Perm(len(traces))
	if known == nil {
		for next, i := range perm[:n] {
			for try := 0; try < len(Kinds); try++ {
				k := Kinds[(next+try)%len(Kinds)]
				if c, ok := apply(event{out[i], tsOf(i)}, k, acts, ck, rng); ok {
					set(i, c)
					labels[i] = k
					break
				}
			}
		}
		return out, outT, labels
	}
	// Novel: the kinds in turn as under the plain protocol; a kind that
	// gives no new path on the next trace of the draw is tried on the
	// traces after it (so that the kinds stay balanced on a log where
	// most of one kind's injections give usual paths), and only when no
	// trace takes it is the next kind tried.
	used := make([]bool, len(traces))
	for next := range n {
		placed := false
		for try := 0; try < len(Kinds) && !placed; try++ {
			k := Kinds[(next+try)%len(Kinds)]
			for _, i := range perm {
				if used[i] {
					continue
				}
				if c, ok := novel(event{out[i], tsOf(i)}, k, acts, known, ck, rng); ok {
					set(i, c)
					labels[i], used[i], placed = k, true, true
					break
				}
			}
		}
		if !placed {
			break // no trace left takes any kind
		}
	}
	return out, outT, labels
}

// event is a trace's activities and their times (nil without times).
type event struct {
	acts  []int
	times []float64
}

// novel draws anomaly k in t up to novelDraws times and returns the
// first whose path is not in known.
func novel(t event, k Kind, acts int, known map[string]bool, ck *clock, rng *rand.Rand) (event, bool) {
	for range novelDraws {
		c, ok := apply(t, k, acts, ck, rng)
		if !ok {
			return event{}, false
		}
		if !known[key(c.acts)] {
			return c, true
		}
	}
	return event{}, false
}

// apply makes anomaly k in t (times as [InjectTimed] says when t has
// them and ck is the log's clock); ok is false when t is too short for
// it.
func apply(e event, k Kind, acts int, ck *clock, rng *rand.Rand) (event, bool) {
	t, ts := e.acts, e.times
	timed := ts != nil && ck != nil
	n := len(t)
	// put inserts activity a at position j of c (c's times cts), its time
	// drawn between its new neighbours'.
	put := func(c []int, cts []float64, j, a int) event {
		r := event{acts: slices.Insert(slices.Clone(c), j, a)}
		if timed {
			r.times = slices.Insert(slices.Clone(cts), j, ck.between(c, cts, j, a, rng))
		}
		return r
	}
	switch k {
	case Skip:
		if n < 2 {
			return event{}, false
		}
		i := rng.IntN(n)
		r := event{acts: slices.Delete(slices.Clone(t), i, i+1)}
		if timed {
			r.times = slices.Delete(slices.Clone(ts), i, i+1)
		}
		return r, true
	case Insert:
		j, a := rng.IntN(n+1), rng.IntN(acts)
		return put(t, ts, j, a), true
	case Rework:
		if n < 1 {
			return event{}, false
		}
		l := 1 + rng.IntN(min(3, n))
		i := rng.IntN(n - l + 1)
		r := event{acts: slices.Insert(slices.Clone(t), i+l, t[i:i+l]...)}
		if timed {
			r.times = ck.rework(t, ts, i, l, rng)
		}
		return r, true
	case Swap:
		for range 10 {
			if n < 2 {
				break
			}
			i := rng.IntN(n - 1)
			if t[i] != t[i+1] {
				c := slices.Clone(t)
				c[i], c[i+1] = c[i+1], c[i]
				r := event{acts: c}
				if timed {
					r.times = slices.Clone(ts)
				}
				return r, true
			}
		}
		return event{}, false
	case Early, Late:
		if n < 3 {
			return event{}, false
		}
		// Move an event by 2 or more places, to a place where the trace
		// changes; in time, to between its new neighbours.
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
			var cts []float64
			if timed {
				cts = slices.Delete(slices.Clone(ts), i, i+1)
			}
			r := put(c, cts, j, t[i])
			if !slices.Equal(r.acts, t) {
				return r, true
			}
		}
		return event{}, false
	}
	return event{}, false
}
