// This file implements the plain inductive miner (noise 0) step for
// step as pm4py 2.2.0 does it (variants/im, subtree_plain.py): the
// version that wrote the golden trees this package is checked against
// (01_running-example-im.ptml, 08_receipt-im.ptml, February 2021).
// Today's pm4py, which miner.go follows and which IMf (noise > 0) still
// uses, finds other trees on logs with empty traces and many optional
// activities: on 08_receipt its tree scores precision 0.159 against
// the golden tree's 0.134, while 2.2.0's scores 0.136.
//
// What differs from today's: cuts are not looked for while a sublog
// holds an empty trace (the empty-traces fall-through comes first); the
// sequence cut layers the strongly connected components of the graph
// and merges neighbouring layers that an edge skips; the parallel cut
// fails, rather than merges, when a part lacks a start or an end
// activity; the loop cut takes its redo parts in order of first
// appearance with empty slots in between; the activity-concurrent fall-through
// tries activities in order of first appearance, skips those whose
// removal leaves an empty trace, and checks for a cut with the start
// and end activities of the log before the removal and without the
// activities it tried before.
//
// One rule of 2.2.0 is not copied: its loop cut grows each redo part by
// forward reachability only, so that activities connected against the
// direction of an edge to a part grouped before them become a part of
// their own, and the tree then cannot replay the log (c b c, c d a b c
// gives *( c, X( b, ->( d, a ) ) )). Here a redo part is a connected
// group taken either way, as in the inductive miner's definition; on
// the shared logs the trees are the same.

package discover

import "slices"

// classic mines with pm4py 2.2.0's plain inductive miner.
type classic struct {
	names []string
}

// clog is a sublog: traces of activity numbers, duplicates allowed.
type clog [][]int

// dedup keeps the first trace of each variant, in order.
func dedup(l clog) clog {
	seen := map[string]bool{}
	var out clog
	for _, t := range l {
		if k := key(t); !seen[k] {
			seen[k] = true
			out = append(out, t)
		}
	}
	return out
}

// firstSeen returns the activities of l in order of first appearance
// and how many events each has.
func firstSeen(l clog) ([]int, map[int]int) {
	var acts []int
	n := map[int]int{}
	for _, t := range l {
		for _, a := range t {
			if n[a] == 0 {
				acts = append(acts, a)
			}
			n[a]++
		}
	}
	return acts, n
}

func ends(l clog) (start, end map[int]bool) {
	start, end = map[int]bool{}, map[int]bool{}
	for _, t := range l {
		if len(t) > 0 {
			start[t[0]] = true
			end[t[len(t)-1]] = true
		}
	}
	return start, end
}

func edges(l clog) map[[2]int]bool {
	e := map[[2]int]bool{}
	for _, t := range l {
		for i := 1; i < len(t); i++ {
			e[[2]int{t[i-1], t[i]}] = true
		}
	}
	return e
}

func hasEmpty(l clog) bool {
	for _, t := range l {
		if len(t) == 0 {
			return true
		}
	}
	return false
}

// sub is one node's sublog with what pm4py 2.2.0 keeps beside it: the
// activities in order and the start and end activities it was given.
type sub struct {
	log        clog
	acts       []int
	start, end map[int]bool
}

// newSub makes a node's sublog with its own start and end activities,
// or none (as 2.2.0 gives the log of the activity taken out by a
// fall-through).
func newSub(l clog, own bool) sub {
	s := sub{log: l}
	s.acts, _ = firstSeen(l)
	if own {
		s.start, s.end = ends(l)
	} else {
		s.start, s.end = map[int]bool{}, map[int]bool{}
	}
	return s
}

func (c *classic) mine(s sub, depth int) *Node {
	l := s.log
	if len(l) == 0 {
		return tau()
	}
	if single(l) {
		return leaf(c.names[l[0][0]])
	}
	if depth > maxDepth {
		return c.flowerOf(s.acts)
	}
	if op, groups := c.findCut(s, edges(l), s.acts); groups != nil {
		var logs []clog
		switch op {
		case Xor:
			logs = classicXor(l, groups)
		case Seq:
			logs = classicSeq(l, groups)
		case And:
			logs = classicAnd(l, groups)
		case Loop:
			logs = classicLoop(l, groups)
		}
		var cs []*Node
		for _, x := range logs {
			cs = append(cs, c.mine(newSub(dedup(x), true), depth+1))
		}
		if op == Loop {
			switch {
			case len(cs) >= 3:
				cs = []*Node{cs[0], fold(Xor, cs[1:])}
			case len(cs) == 1:
				cs = append(cs, tau())
			}
			return &Node{Op: Loop, Children: cs}
		}
		return fold(op, cs)
	}
	return c.fallThrough(s, depth)
}

// single: every trace is the same one activity.
func single(l clog) bool {
	if len(l[0]) == 0 {
		return false
	}
	for _, t := range l {
		if len(t) != 1 || t[0] != l[0][0] {
			return false
		}
	}
	return true
}

// fold builds an operator node as pm4py's fold leaves it: nested nodes
// of the same kind flattened, silent children of a sequence or a
// parallel node dropped, one silent child of a choice kept, and a node
// left with one child replaced by it.
func fold(op Op, cs []*Node) *Node {
	var kept []*Node
	silent := false
	for _, c := range node(op, cs...).Children {
		if c.Op == Tau {
			if op == Seq || op == And || silent {
				continue
			}
			silent = true
		}
		kept = append(kept, c)
	}
	switch len(kept) {
	case 0:
		return tau()
	case 1:
		return kept[0]
	}
	return &Node{Op: op, Children: kept}
}

// findCut looks for a cut of s's log over acts (xor, sequence,
// parallel, loop), none while the log has an empty trace.
func (c *classic) findCut(s sub, e map[[2]int]bool, acts []int) (Op, [][]int) {
	if hasEmpty(s.log) {
		return 0, nil
	}
	if g := components(acts, e); len(g) > 1 {
		return Xor, g
	}
	if g := layers(acts, e, s.end); g != nil {
		return Seq, g
	}
	if g := classicPar(acts, e, s.start, s.end); g != nil {
		return And, g
	}
	if g := classicLoopCut(acts, e, s.start, s.end); g != nil {
		return Loop, g
	}
	return 0, nil
}

// components returns the connected components of the graph taken
// undirected, in order of their first activity in acts.
func components(acts []int, e map[[2]int]bool) [][]int {
	u := newUF(acts)
	for x := range e {
		if _, ok := u.parent[x[0]]; !ok {
			u.parent[x[0]] = x[0]
		}
		if _, ok := u.parent[x[1]]; !ok {
			u.parent[x[1]] = x[1]
		}
		u.union(x[0], x[1])
	}
	all := slices.Clone(acts)
	for a := range u.parent {
		if !slices.Contains(all, a) {
			all = append(all, a)
		}
	}
	return u.groups(all)
}

// layers is 2.2.0's sequence cut: the strongly connected components of
// the graph, layered (the first layer has no predecessors, each next
// one only predecessors in the layers before), and, while there are
// more than two layers, a layer merged with the next when an edge
// leaves it to a later layer or it has an end activity without
// outgoing edges.
func layers(acts []int, e map[[2]int]bool, end map[int]bool) [][]int {
	nodes := slices.Clone(acts)
	for x := range e {
		for _, a := range x {
			if !slices.Contains(nodes, a) {
				nodes = append(nodes, a)
			}
		}
	}
	sccs := scc(nodes, e)
	if len(sccs) < 2 {
		return nil
	}
	comp := map[int]int{}
	for i, s := range sccs {
		for _, a := range s {
			comp[a] = i
		}
	}
	pred := make([]map[int]bool, len(sccs))
	for i := range pred {
		pred[i] = map[int]bool{}
	}
	for x := range e {
		if a, b := comp[x[0]], comp[x[1]]; a != b {
			pred[b][a] = true
		}
	}
	closed := map[int]bool{}
	var ls [][]int
	for {
		var cur []int
		for i := range sccs {
			if closed[i] {
				continue
			}
			ok := true
			for p := range pred[i] {
				if !closed[p] {
					ok = false
					break
				}
			}
			if ok {
				cur = append(cur, i)
			}
		}
		if len(cur) == 0 {
			break
		}
		for _, i := range cur {
			closed[i] = true
		}
		ls = append(ls, cur)
	}
	if len(ls) < 2 {
		return nil
	}
	groups := make([]map[int]bool, len(ls))
	for i, l := range ls {
		groups[i] = map[int]bool{}
		for _, s := range l {
			for _, a := range sccs[s] {
				groups[i][a] = true
			}
		}
	}
	hasOut := map[int]bool{}
	for x := range e {
		hasOut[x[0]] = true
	}
	for i := 0; i < len(groups)-1; {
		merge := false
		for x := range e {
			if groups[i][x[0]] && !groups[i][x[1]] && !groups[i+1][x[1]] {
				merge = true
				break
			}
		}
		for a := range end {
			if groups[i][a] && !hasOut[a] {
				merge = true
			}
		}
		if merge && len(groups) > 2 {
			for a := range groups[i+1] {
				groups[i][a] = true
			}
			groups = slices.Delete(groups, i+1, i+2)
			continue
		}
		i++
	}
	out := make([][]int, len(groups))
	for i, g := range groups {
		for _, a := range nodes {
			if g[a] {
				out[i] = append(out[i], a)
			}
		}
	}
	return out
}

// scc returns the strongly connected components of the graph over acts
// (Tarjan).
func scc(acts []int, e map[[2]int]bool) [][]int {
	succ := map[int][]int{}
	for x := range e {
		succ[x[0]] = append(succ[x[0]], x[1])
	}
	for a := range succ {
		slices.Sort(succ[a])
	}
	index, low := map[int]int{}, map[int]int{}
	on := map[int]bool{}
	var stack []int
	var out [][]int
	n := 0
	var visit func(int)
	visit = func(v int) {
		index[v], low[v] = n, n
		n++
		stack = append(stack, v)
		on[v] = true
		for _, w := range succ[v] {
			if _, seen := index[w]; !seen {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if on[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var c []int
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				on[w] = false
				c = append(c, w)
				if w == v {
					break
				}
			}
			out = append(out, c)
		}
	}
	for _, a := range acts {
		if _, seen := index[a]; !seen {
			visit(a)
		}
	}
	return out
}

// classicPar: the components of the negated graph (a and b joined
// unless each directly follows the other), each of which must hold a
// start and an end activity.
func classicPar(acts []int, e map[[2]int]bool, start, end map[int]bool) [][]int {
	u := newUF(acts)
	for i, a := range acts {
		for _, b := range acts[i+1:] {
			if !e[[2]int{a, b}] || !e[[2]int{b, a}] {
				u.union(a, b)
			}
		}
	}
	gs := u.groups(acts)
	if len(gs) < 2 {
		return nil
	}
	for _, g := range gs {
		hasS, hasE := false, false
		for _, a := range g {
			hasS = hasS || start[a]
			hasE = hasE || end[a]
		}
		if !hasS || !hasE {
			return nil
		}
	}
	return gs
}

// classicLoopCut is 2.2.0's loop cut: the do part holds the start and
// end activities; the rest is grouped into connected groups (without
// the do part's edges; 2.2.0 followed edges forward only, see the top
// of the file), each in the slot of its first activity in order of
// first appearance; a group joins the
// do part when it is entered from a start activity that is not an end
// one or leaves to an end activity that is not a start one, or, in a
// second pass, when it is entered from some end activities but not all
// or leaves to some start activities but not all. The groups sit in a
// list with empty slots, as 2.2.0 builds it, because its second pass
// walks that list while removing from it and so skips the slot after
// each removal.
func classicLoopCut(acts []int, e map[[2]int]bool, start, end map[int]bool) [][]int {
	do := map[int]bool{}
	for a := range start {
		do[a] = true
	}
	for a := range end {
		do[a] = true
	}
	var rest []int
	for _, a := range acts {
		if !do[a] {
			rest = append(rest, a)
		}
	}
	out := map[int][]int{} // neighbours either way among the rest
	for _, a := range rest {
		for _, b := range rest {
			if e[[2]int{a, b}] || e[[2]int{b, a}] {
				out[a] = append(out[a], b)
			}
		}
	}
	assigned := map[int]bool{}
	p := make([][]int, len(rest)) // a slot per activity, empty when taken
	for i, a := range rest {
		if assigned[a] {
			continue
		}
		assigned[a] = true
		g := []int{a}
		for j := 0; j < len(g); j++ {
			for _, b := range out[g[j]] {
				if !assigned[b] {
					assigned[b] = true
					g = append(g, b)
				}
			}
		}
		p[i] = g
	}
	// "for li in p: if not li: p.remove(li)" removes the first empty
	// slot at each empty one it visits, and skips the slot after.
	for i := 0; i < len(p); i++ {
		if len(p[i]) == 0 {
			j := slices.IndexFunc(p, func(x []int) bool { return len(x) == 0 })
			p = slices.Delete(p, j, j+1)
		}
	}
	joined := map[int]bool{} // index in p of groups merged into the do part
	for gi, g := range p {
	first:
		for _, a := range g {
			for x := range end {
				if !start[x] && e[[2]int{a, x}] {
					joined[gi] = true
					break first
				}
			}
			for s := range start {
				if !end[s] && e[[2]int{s, a}] {
					joined[gi] = true
					break first
				}
			}
		}
	}
	var left []int // p without the joined groups, empty slots kept
	for gi := range p {
		if !joined[gi] {
			left = append(left, gi)
		}
	}
	// The do part sits before left; a removal makes the walk skip the
	// next entry.
	for k := 0; k < len(left); k++ {
		gi := left[k]
		if len(p[gi]) > 0 && !complete(p[gi], e, start, end) {
			joined[gi] = true
			left = slices.Delete(left, k, k+1)
		}
	}
	cut := [][]int{nil}
	for _, gi := range left {
		if len(p[gi]) > 0 {
			cut = append(cut, p[gi])
		}
	}
	if len(cut) < 2 {
		return nil
	}
	for gi, g := range p {
		if joined[gi] {
			for _, a := range g {
				do[a] = true
			}
		}
	}
	for _, a := range acts {
		if do[a] {
			cut[0] = append(cut[0], a)
		}
	}
	return cut
}

// complete says whether each activity of g entered from an end
// activity is entered from all of them, and each that leaves to a start
// activity leaves to all of them.
func complete(g []int, e map[[2]int]bool, start, end map[int]bool) bool {
	for _, a := range g {
		for x := range end {
			if e[[2]int{x, a}] {
				for y := range end {
					if !e[[2]int{y, a}] {
						return false
					}
				}
			}
		}
		for x := range start {
			if e[[2]int{a, x}] {
				for y := range start {
					if !e[[2]int{a, y}] {
						return false
					}
				}
			}
		}
	}
	return true
}

// classicXor sends each trace to the group that holds all its events.
func classicXor(l clog, groups [][]int) []clog {
	g := indexCut(groups)
	out := make([]clog, len(groups))
	for _, t := range l {
		if len(t) == 0 {
			continue
		}
		i := g[t[0]]
		fits := true
		for _, a := range t {
			fits = fits && g[a] == i
		}
		if fits {
			out[i] = append(out[i], t)
		}
	}
	return out
}

// classicSeq gives each group the first run of its events in each
// trace (an empty trace where it has none).
func classicSeq(l clog, groups [][]int) []clog {
	g := indexCut(groups)
	out := make([]clog, len(groups))
	for i := range groups {
		for _, t := range l {
			var run []int
			for j, a := range t {
				if g[a] == i {
					k := j
					for k < len(t) && g[t[k]] == i {
						k++
					}
					run = t[j:k:k]
					break
				}
			}
			out[i] = append(out[i], run)
		}
	}
	return out
}

// classicAnd projects each trace on each group.
func classicAnd(l clog, groups [][]int) []clog {
	g := indexCut(groups)
	out := make([]clog, len(groups))
	for i := range groups {
		for _, t := range l {
			p := []int{}
			for _, a := range t {
				if g[a] == i {
					p = append(p, a)
				}
			}
			out[i] = append(out[i], p)
		}
	}
	return out
}

// classicLoop gives each group every run of its events; a group with
// no runs gets no log.
func classicLoop(l clog, groups [][]int) []clog {
	g := indexCut(groups)
	var out []clog
	for i := range groups {
		var lo clog
		for _, t := range l {
			for j := 0; j < len(t); {
				if g[t[j]] != i {
					j++
					continue
				}
				k := j
				for k < len(t) && g[t[k]] == i {
					k++
				}
				lo = append(lo, t[j:k:k])
				j = k
			}
		}
		if len(lo) > 0 {
			out = append(out, lo)
		}
	}
	return out
}

// fallThrough tries, in 2.2.0's order: empty traces, an activity once
// per trace, an activity concurrent, the strict tau loop, the tau loop,
// the flower model.
func (c *classic) fallThrough(s sub, depth int) *Node {
	l := s.log
	if hasEmpty(l) {
		var rest clog
		for _, t := range l {
			if len(t) > 0 {
				rest = append(rest, t)
			}
		}
		return fold(Xor, []*Node{tau(), c.mine(newSub(rest, true), depth+1)})
	}
	acts, count := firstSeen(l)
	for _, a := range acts {
		if count[a] != len(l) || !inEvery(l, a) {
			continue
		}
		return fold(And, []*Node{leaf(c.names[a]), c.mine(newSub(remove(l, a), true), depth+1)})
	}
	// Activity concurrent. Each activity tried and failed is left out of
	// the later checks, as 2.2.0's shared activity dictionary does.
	tried := map[int]bool{}
	for _, a := range acts {
		rest := remove(l, a)
		if hasEmpty(rest) {
			continue
		}
		tried[a] = true
		var left []int
		for _, b := range acts {
			if !tried[b] {
				left = append(left, b)
			}
		}
		if _, g := c.findCut(sub{log: rest, start: s.start, end: s.end}, edges(rest), left); g == nil {
			continue
		}
		var small clog
		for _, t := range l {
			var p []int
			for _, x := range t {
				if x == a {
					p = append(p, x)
				}
			}
			small = append(small, p)
			if len(p) == 0 {
				small = append(small, nil)
			}
		}
		return fold(And, []*Node{c.mine(newSub(dedup(small), false), depth+1), c.mine(newSub(rest, true), depth+1)})
	}
	if split, ok := strictTauSplit(l, s.start, s.end); ok {
		return &Node{Op: Loop, Children: []*Node{c.mine(newSub(dedup(split), true), depth+1), tau()}}
	}
	if split, ok := tauSplit(l, s.start); ok {
		return &Node{Op: Loop, Children: []*Node{c.mine(newSub(dedup(split), true), depth+1), tau()}}
	}
	return c.flowerOf(acts)
}

func (c *classic) flowerOf(acts []int) *Node {
	var cs []*Node
	for _, a := range acts {
		cs = append(cs, leaf(c.names[a]))
	}
	return &Node{Op: Loop, Children: []*Node{fold(Xor, cs), tau()}}
}

func inEvery(l clog, a int) bool {
	for _, t := range l {
		if !slices.Contains(t, a) {
			return false
		}
	}
	return true
}

func remove(l clog, a int) clog {
	out := make(clog, len(l))
	for i, t := range l {
		out[i] = slices.DeleteFunc(slices.Clone(t), func(x int) bool { return x == a })
	}
	return out
}

// strictTauSplit cuts traces wherever an end activity is followed by a
// start activity; ok when that makes more traces.
func strictTauSplit(l clog, start, end map[int]bool) (clog, bool) {
	var out clog
	for _, t := range l {
		from := 0
		for i := 0; i+1 < len(t); i++ {
			if end[t[i]] && start[t[i+1]] {
				out = append(out, t[from:i+1:i+1])
				from = i + 1
			}
		}
		out = append(out, t[from:])
	}
	return out, len(out) > len(l)
}

// tauSplit cuts traces before every start activity but the first
// event; ok when that makes more traces.
func tauSplit(l clog, start map[int]bool) (clog, bool) {
	var out clog
	for _, t := range l {
		from := 0
		for i := 1; i < len(t); i++ {
			if start[t[i]] {
				out = append(out, t[from:i:i])
				from = i
			}
		}
		out = append(out, t[from:])
	}
	return out, len(out) > len(l)
}
