// This file implements splitting a log along a cut: each group of the
// cut gets its own sublog. Events that do not fit the cut (only possible
// when the cut was found on a filtered graph) are dropped, as in IMf.

package discover

type groupOf map[int]int // activity -> index of its group in the cut

func indexCut(cut [][]int) groupOf {
	g := groupOf{}
	for i, grp := range cut {
		for _, a := range grp {
			g[a] = i
		}
	}
	return g
}

type splitter struct {
	logs  []sublog
	index []map[string]int
}

func newSplitter(n int) *splitter {
	s := &splitter{logs: make([]sublog, n), index: make([]map[string]int, n)}
	for i := range s.index {
		s.index[i] = map[string]int{}
	}
	return s
}

func (s *splitter) add(i int, acts []int, c int) { s.logs[i].add(s.index[i], acts, c) }

// splitXor sends each trace to the group holding most of its events.
func splitXor(l sublog, cut [][]int) []sublog {
	g := indexCut(cut)
	s := newSplitter(len(cut))
	for _, t := range l {
		n := make([]int, len(cut))
		for _, a := range t.Acts {
			n[g[a]]++
		}
		best := 0
		for i := range n {
			if n[i] > n[best] {
				best = i
			}
		}
		s.add(best, project(t.Acts, g, best), t.Count)
	}
	return s.logs
}

// splitSeq cuts each trace into consecutive pieces, one per group, each
// piece ending where it holds the most events of its group against
// events of other groups.
func splitSeq(l sublog, cut [][]int) []sublog {
	g := indexCut(cut)
	s := newSplitter(len(cut))
	for _, t := range l {
		pos := 0
		for i := range cut {
			end := len(t.Acts)
			if i < len(cut)-1 {
				best, score := pos, 0
				cur := 0
				for p := pos; p < len(t.Acts); p++ {
					// An event of a later group costs one when kept
					// here; one of an earlier group is dropped anyway.
					switch gp := g[t.Acts[p]]; {
					case gp == i:
						cur++
					case gp > i:
						cur--
					}
					if cur > score {
						best, score = p+1, cur
					}
				}
				end = best
			}
			s.add(i, project(t.Acts[pos:end], g, i), t.Count)
			pos = end
		}
	}
	return s.logs
}

// splitAnd projects each trace on each group.
func splitAnd(l sublog, cut [][]int) []sublog {
	g := indexCut(cut)
	s := newSplitter(len(cut))
	for _, t := range l {
		for i := range cut {
			s.add(i, project(t.Acts, g, i), t.Count)
		}
	}
	return s.logs
}

// splitLoop cuts each trace into runs of one group: body runs go to the
// body's log, redo runs to their group's log. A trace that starts or
// ends in a redo part gets an empty body run there.
func splitLoop(l sublog, cut [][]int) []sublog {
	g := indexCut(cut)
	s := newSplitter(len(cut))
	for _, t := range l {
		if len(t.Acts) == 0 {
			s.add(0, nil, t.Count)
			continue
		}
		if g[t.Acts[0]] != 0 {
			s.add(0, nil, t.Count)
		}
		start := 0
		for p := 1; p <= len(t.Acts); p++ {
			if p == len(t.Acts) || g[t.Acts[p]] != g[t.Acts[start]] {
				grp := g[t.Acts[start]]
				s.add(grp, t.Acts[start:p:p], t.Count)
				if p < len(t.Acts) && grp != 0 && g[t.Acts[p]] != 0 {
					s.add(0, nil, t.Count) // two redo runs in a row
				}
				start = p
			}
		}
		if g[t.Acts[len(t.Acts)-1]] != 0 {
			s.add(0, nil, t.Count)
		}
	}
	return s.logs
}

// project keeps the events of group i.
func project(acts []int, g groupOf, i int) []int {
	out := make([]int, 0, len(acts))
	for _, a := range acts {
		if g[a] == i {
			out = append(out, a)
		}
	}
	return out
}
