// This file implements the four cuts of the inductive miner on a
// directly-follows graph: exclusive choice, sequence, parallel and loop.
// Each returns the groups of activities (the first group of a loop is its
// body) or nil when the graph has no such cut.

package discover

import (
	"slices"
)

// unionFind groups the activities of a graph.
type unionFind struct{ parent map[int]int }

func newUF(acts []int) *unionFind {
	u := &unionFind{parent: map[int]int{}}
	for _, a := range acts {
		u.parent[a] = a
	}
	return u
}

func (u *unionFind) find(a int) int {
	for u.parent[a] != a {
		u.parent[a] = u.parent[u.parent[a]]
		a = u.parent[a]
	}
	return a
}

func (u *unionFind) union(a, b int) bool {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return false
	}
	if rb < ra {
		ra, rb = rb, ra
	}
	u.parent[rb] = ra
	return true
}

// groups returns the classes of acts, each sorted, ordered by their
// smallest member.
func (u *unionFind) groups(acts []int) [][]int {
	idx := map[int]int{}
	var out [][]int
	for _, a := range acts {
		r := u.find(a)
		i, ok := idx[r]
		if !ok {
			i = len(out)
			idx[r] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], a)
	}
	return out
}

// xorCut: the connected components of the graph taken undirected.
func xorCut(g *dfg) [][]int {
	u := newUF(g.acts)
	for e := range g.edge {
		u.union(e[0], e[1])
	}
	if gs := u.groups(g.acts); len(gs) > 1 {
		return gs
	}
	return nil
}

// reach returns the transitive closure of the graph's edges.
func reach(g *dfg) map[int]map[int]bool {
	succ := map[int][]int{}
	for e := range g.edge {
		succ[e[0]] = append(succ[e[0]], e[1])
	}
	r := map[int]map[int]bool{}
	for _, a := range g.acts {
		seen := map[int]bool{}
		stack := slices.Clone(succ[a])
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[x] {
				continue
			}
			seen[x] = true
			stack = append(stack, succ[x]...)
		}
		r[a] = seen
	}
	return r
}

// seqCut: activities that reach each other both ways, or neither way,
// belong to one group; the groups are then ordered by reachability
// (Leemans, Robust Process Mining with Guarantees, the function
// sequence).
func seqCut(g *dfg) [][]int {
	r := reach(g)
	u := newUF(g.acts)
	for changed := true; changed; {
		changed = false
		gs := u.groups(g.acts)
		for i := range gs {
			for j := i + 1; j < len(gs); j++ {
				if mergeSeq(r, gs[i], gs[j]) {
					u.union(gs[i][0], gs[j][0])
					changed = true
				}
			}
		}
	}
	gs := u.groups(g.acts)
	if len(gs) < 2 {
		return nil
	}
	// Order the groups by how many activities reach them and how many
	// they do not reach: a group earlier in the sequence is reached by
	// fewer and reaches more. Every pair of groups has a direction after
	// the merging above, so this is the order of the sequence.
	pred := map[int]int{}
	for _, a := range g.acts {
		for b := range r[a] {
			pred[b]++
		}
	}
	rank := func(grp []int) int { return pred[grp[0]] + len(g.acts) - len(r[grp[0]]) }
	slices.SortStableFunc(gs, func(x, y []int) int { return rank(x) - rank(y) })
	return gs
}

// mergeSeq says whether two groups cannot be in sequence: some pair of
// their activities reaches each other both ways or neither way.
func mergeSeq(r map[int]map[int]bool, x, y []int) bool {
	for _, a := range x {
		for _, b := range y {
			if r[a][b] == r[b][a] {
				return true
			}
		}
	}
	return false
}

// parCut: the components of the negated graph (a and b joined unless
// each directly follows the other, or one happens between two closest
// occurrences of the other: then they are in a loop, not in parallel);
// every group needs a start and an end activity, and, smallest first, a
// group lacking one joins its neighbour.
func parCut(g *dfg, w msd) [][]int {
	u := newUF(g.acts)
	for i, a := range g.acts {
		for _, b := range g.acts[i+1:] {
			if !g.has(a, b) || !g.has(b, a) || w[a][b] || w[b][a] {
				u.union(a, b)
			}
		}
	}
	gs := u.groups(g.acts)
	slices.SortStableFunc(gs, func(x, y []int) int { return len(x) - len(y) })
	for i := 0; i < len(gs) && len(gs) > 1; {
		hasS, hasE := false, false
		for _, a := range gs[i] {
			hasS = hasS || g.start[a] > 0
			hasE = hasE || g.end[a] > 0
		}
		if hasS && hasE {
			i++
			continue
		}
		grp := gs[i]
		gs = slices.Delete(gs, i, i+1)
		j := max(i-1, 0)
		gs[j] = append(gs[j], grp...)
		slices.Sort(gs[j])
	}
	if len(gs) < 2 {
		return nil
	}
	return gs
}

// loopCut: the body holds the start and end activities; each component
// of the rest is a redo part when [isRedo] says so; other components
// join the body.
func loopCut(g *dfg) [][]int {
	body := map[int]bool{}
	for a := range g.start {
		body[a] = true
	}
	for a := range g.end {
		body[a] = true
	}
	if len(body) == 0 {
		return nil
	}
	var rest []int
	for _, a := range g.acts {
		if !body[a] {
			rest = append(rest, a)
		}
	}
	u := newUF(rest)
	for e := range g.edge {
		if !body[e[0]] && !body[e[1]] {
			u.union(e[0], e[1])
		}
	}
	cut := [][]int{nil}
	for _, c := range u.groups(rest) {
		if isRedo(g, body, c) {
			cut = append(cut, c)
		} else {
			for _, a := range c {
				body[a] = true
			}
		}
	}
	if len(cut) < 2 {
		return nil
	}
	for _, a := range g.acts {
		if body[a] {
			cut[0] = append(cut[0], a)
		}
	}
	return cut
}

// isRedo says whether component c of the graph without the body can be
// a redo part: entered only from end activities and left only to start
// activities, and each of its activities that is entered from an end
// activity is entered from all of them, and each that leaves to a start
// activity leaves to all of them.
func isRedo(g *dfg, body map[int]bool, c []int) bool {
	in := map[int]bool{}
	for _, a := range c {
		in[a] = true
	}
	for e := range g.edge {
		switch {
		case body[e[0]] && in[e[1]]:
			if g.end[e[0]] == 0 {
				return false
			}
			for x := range g.end {
				if !g.has(x, e[1]) {
					return false
				}
			}
		case in[e[0]] && body[e[1]]:
			if g.start[e[1]] == 0 {
				return false
			}
			for x := range g.start {
				if !g.has(e[0], x) {
					return false
				}
			}
		}
	}
	return true
}
