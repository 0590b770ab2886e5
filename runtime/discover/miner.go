// This file implements the recursion of the inductive miner.

package discover

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Options tune discovery.
type Options struct {
	// Noise is IMf's threshold in [0, 1): 0 is the plain inductive miner
	// (every trace fits the tree), as pm4py 2.2.0 runs it (classic.go);
	// 0.2 ignores directly-follows edges
	// rarer than a fifth of their source's most frequent edge when no cut
	// exists on the whole graph.
	Noise float64
}

// ErrNoActivities is returned for a log whose traces are all empty.
var ErrNoActivities = errors.New("the log has no events to discover a model from")

// Discover mines a process tree from l.
func Discover(l *Log, o Options) (*Node, error) {
	if o.Noise < 0 || o.Noise >= 1 {
		return nil, fmt.Errorf("noise %v is outside [0, 1)", o.Noise)
	}
	if len(l.Names) == 0 {
		return nil, ErrNoActivities
	}
	if o.Noise == 0 {
		var cl clog
		for _, t := range l.Traces {
			for range t.Count {
				cl = append(cl, t.Acts)
			}
		}
		c := &classic{names: l.Names}
		return c.mine(newSub(dedup(cl), true), 0), nil
	}
	m := &miner{names: l.Names, noise: o.Noise}
	s := sublog{}
	idx := map[string]int{}
	for _, t := range l.Traces {
		s.add(idx, t.Acts, t.Count)
	}
	return m.mine(s, 0), nil
}

type miner struct {
	names []string
	noise float64
}

// maxDepth bounds the recursion: every step removes at least one
// activity or one split point, so a log needs far fewer levels; the
// bound only guards against a bug looping.
const maxDepth = 10000

func (m *miner) mine(l sublog, depth int) *Node {
	total, empty := 0, 0
	var nonEmpty sublog
	for _, t := range l {
		total += t.Count
		if len(t.Acts) == 0 {
			empty += t.Count
		} else {
			nonEmpty = append(nonEmpty, t)
		}
	}
	if len(nonEmpty) == 0 {
		return tau()
	}
	if empty > 0 {
		if float64(empty) > m.noise*float64(total) {
			return node(Xor, tau(), m.mine(nonEmpty, depth+1))
		}
		l = nonEmpty // IMf: rare empty traces are noise
	}
	g := newDFG(l)
	if len(g.acts) == 1 {
		// One activity: once per trace, or repeated (IMf: unless
		// repeats are rarer than the threshold).
		a, repeats, n := leaf(m.names[g.acts[0]]), 0, 0
		for _, t := range l {
			n += t.Count
			if len(t.Acts) != 1 {
				repeats += t.Count
			}
		}
		if repeats > 0 && float64(repeats) > m.noise*float64(n) {
			return node(Loop, a, tau())
		}
		return a
	}
	if depth > maxDepth {
		return m.flower(g)
	}
	w := witnesses(l)
	if n := m.cut(l, g, w, depth); n != nil {
		return n
	}
	if m.noise > 0 {
		if n := m.cut(l, g.filtered(m.noise), w, depth); n != nil {
			return n
		}
	}
	return m.fallThrough(l, g, depth)
}

// cut finds a cut of g (xor, sequence, parallel, loop, in that order),
// splits l along it and recurses; nil when there is none.
func (m *miner) cut(l sublog, g *dfg, w msd, depth int) *Node {
	op, groups := findCut(g, w)
	if groups == nil {
		return nil
	}
	var logs []sublog
	switch op {
	case Xor:
		logs = splitXor(l, groups)
	case Seq:
		logs = splitSeq(l, groups)
	case And:
		logs = splitAnd(l, groups)
	case Loop:
		logs = splitLoop(l, groups)
	}
	var cs []*Node
	for _, s := range logs {
		cs = append(cs, m.mine(s, depth+1))
	}
	if op == Loop {
		redo := cs[1]
		if len(cs) > 2 {
			redo = node(Xor, cs[1:]...)
		}
		return &Node{Op: Loop, Children: []*Node{cs[0], redo}}
	}
	return node(op, cs...)
}

func findCut(g *dfg, w msd) (Op, [][]int) {
	if c := xorCut(g); c != nil {
		return Xor, c
	}
	if c := seqCut(g); c != nil {
		return Seq, c
	}
	if c := parCut(g, w); c != nil {
		return And, c
	}
	if c := loopCut(g); c != nil {
		return Loop, c
	}
	return 0, nil
}

// fallThrough handles a log without a cut, trying in order: an activity
// that happens once in every trace, an activity concurrent with the rest,
// a loop back from an end to a start activity, a loop back to any start
// activity, and last the flower model.
func (m *miner) fallThrough(l sublog, g *dfg, depth int) *Node {
	// Activity once per trace.
	for _, a := range g.acts {
		once := true
		for _, t := range l {
			n := 0
			for _, x := range t.Acts {
				if x == a {
					n++
				}
			}
			if n != 1 {
				once = false
				break
			}
		}
		if once {
			return node(And, leaf(m.names[a]), m.mine(without(l, a), depth+1))
		}
	}
	// Activity concurrent: removing it leaves a log with a cut.
	for _, a := range m.byName(g.acts) {
		rest := without(l, a)
		rg, rw := newDFG(rest), witnesses(rest)
		_, c := findCut(rg, rw)
		if c == nil && m.noise > 0 {
			_, c = findCut(rg.filtered(m.noise), rw)
		}
		if c != nil {
			return node(And, m.mine(only(l, a), depth+1), m.mine(rest, depth+1))
		}
	}
	// Strict tau loop: split where an end activity is followed by a start
	// activity.
	if s, ok := splitAt(l, func(prev, next int) bool { return g.end[prev] > 0 && g.start[next] > 0 }); ok {
		return node(Loop, m.mine(s, depth+1), tau())
	}
	// Tau loop: split before every start activity.
	if s, ok := splitAt(l, func(_, next int) bool { return g.start[next] > 0 }); ok {
		return node(Loop, m.mine(s, depth+1), tau())
	}
	return m.flower(g)
}

// byName returns acts sorted by activity name, the order in which the
// fall-throughs try them, so that the tree does not depend on the order
// in which activities first appear in the log.
func (m *miner) byName(acts []int) []int {
	out := slices.Clone(acts)
	slices.SortFunc(out, func(a, b int) int { return strings.Compare(m.names[a], m.names[b]) })
	return out
}

// flower allows any sequence of the activities.
func (m *miner) flower(g *dfg) *Node {
	var cs []*Node
	for _, a := range g.acts {
		cs = append(cs, leaf(m.names[a]))
	}
	return &Node{Op: Loop, Children: []*Node{tau(), node(Xor, cs...)}}
}

func without(l sublog, a int) sublog {
	s := sublog{}
	idx := map[string]int{}
	for _, t := range l {
		s.add(idx, slices.DeleteFunc(slices.Clone(t.Acts), func(x int) bool { return x == a }), t.Count)
	}
	return s
}

func only(l sublog, a int) sublog {
	s := sublog{}
	idx := map[string]int{}
	for _, t := range l {
		s.add(idx, slices.DeleteFunc(slices.Clone(t.Acts), func(x int) bool { return x != a }), t.Count)
	}
	return s
}

// splitAt cuts traces between prev and next wherever at says so; ok is
// false when no trace was cut.
func splitAt(l sublog, at func(prev, next int) bool) (sublog, bool) {
	s := sublog{}
	idx := map[string]int{}
	cut := false
	for _, t := range l {
		start := 0
		for p := 1; p < len(t.Acts); p++ {
			if at(t.Acts[p-1], t.Acts[p]) {
				s.add(idx, t.Acts[start:p:p], t.Count)
				start = p
				cut = true
			}
		}
		s.add(idx, t.Acts[start:], t.Count)
	}
	return s, cut
}
