// This file implements the cap on the F1 of any detector that reads
// only the activity sequence.

package anomaly

import "slices"

// SequenceCap returns the best F1 that any rule flagging traces by
// their activity sequence alone can reach against labels, chosen in
// hindsight: such a rule flags all the traces of a path or none, so an
// injected anomaly whose path normal traces follow too costs a false
// alarm for each of them when flagged. The paths are flagged in order
// of their share of anomalies (the order in which some prefix is best
// for F1 = 2·TP / (flagged + anomalies)); a path without anomalies is
// never flagged. It is an upper bound for reading, not a detector: it
// looks at the labels.
func SequenceCap(traces [][]int, labels []Kind) float64 {
	type group struct{ bad, all int }
	groups := map[string]*group{}
	pos := 0
	for i, t := range traces {
		k := key(t)
		g := groups[k]
		if g == nil {
			g = &group{}
			groups[k] = g
		}
		g.all++
		if labels[i] != Normal {
			g.bad++
			pos++
		}
	}
	var gs []*group
	for _, g := range groups {
		if g.bad > 0 {
			gs = append(gs, g)
		}
	}
	// Highest share first; ties by size, so that the order is fixed.
	slices.SortFunc(gs, func(a, b *group) int {
		if d := b.bad*a.all - a.bad*b.all; d != 0 {
			return d
		}
		return b.all - a.all
	})
	best, tp, flagged := 0.0, 0, 0
	for _, g := range gs {
		tp += g.bad
		flagged += g.all
		best = max(best, 2*float64(tp)/float64(flagged+pos))
	}
	return best
}
