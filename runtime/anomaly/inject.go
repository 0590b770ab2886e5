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
	return inject(traces, acts, share, nil, rng)
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
	return inject(traces, acts, share, known, rng)
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

// inject is Inject (known nil: every injection kept) and InjectNovel.
func inject(traces [][]int, acts int, share float64, known map[string]bool, rng *rand.Rand) ([][]int, []Kind) {
	out := make([][]int, len(traces))
	labels := make([]Kind, len(traces))
	for i, t := range traces {
		out[i] = slices.Clone(t)
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
				if t, ok := apply(out[i], k, acts, rng); ok {
					out[i], labels[i] = t, k
					break
				}
			}
		}
		return out, labels
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
				if t, ok := novel(out[i], k, acts, known, rng); ok {
					out[i], labels[i], used[i], placed = t, k, true, true
					break
				}
			}
		}
		if !placed {
			break // no trace left takes any kind
		}
	}
	return out, labels
}

// novel draws anomaly k in t up to novelDraws times and returns the
// first whose path is not in known.
func novel(t []int, k Kind, acts int, known map[string]bool, rng *rand.Rand) ([]int, bool) {
	for range novelDraws {
		c, ok := apply(t, k, acts, rng)
		if !ok {
			return nil, false
		}
		if !known[key(c)] {
			return c, true
		}
	}
	return nil, false
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
