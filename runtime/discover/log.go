// This file implements the miner's view of a log: traces of activity
// numbers, with the directly-follows graph.

package discover

import (
	"slices"

	"github.com/knhk/knhk/runtime/export"
)

// Log is a multiset of traces over activities numbered by Names.
type Log struct {
	Names  []string
	Traces []Trace
}

// Trace is one trace and how many cases followed it.
type Trace struct {
	Acts  []int
	Count int
}

// FromExport turns an exported or imported log into variants: each
// distinct sequence of activities once, with its count. Start events
// (lifecycle start) are dropped when the log also has complete events,
// so that each activity counts once, as pm4py's default classifier on
// completed events does.
func FromExport(l *export.Log) *Log {
	hasComplete := false
	for _, t := range l.Traces {
		for _, e := range t.Events {
			if e.Lifecycle == export.Complete {
				hasComplete = true
			}
		}
	}
	out := &Log{}
	ids := map[string]int{}
	seen := map[string]int{}
	for _, t := range l.Traces {
		var acts []int
		for _, e := range t.Events {
			if hasComplete && e.Lifecycle == export.Start {
				continue
			}
			id, ok := ids[e.Activity]
			if !ok {
				id = len(out.Names)
				ids[e.Activity] = id
				out.Names = append(out.Names, e.Activity)
			}
			acts = append(acts, id)
		}
		k := key(acts)
		if i, ok := seen[k]; ok {
			out.Traces[i].Count++
			continue
		}
		seen[k] = len(out.Traces)
		out.Traces = append(out.Traces, Trace{Acts: acts, Count: 1})
	}
	return out
}

// Sequences returns the log's traces as activity names, each variant as
// many times as its count.
func (l *Log) Sequences() [][]string {
	var out [][]string
	for _, t := range l.Traces {
		s := make([]string, len(t.Acts))
		for i, a := range t.Acts {
			s[i] = l.Names[a]
		}
		for range t.Count {
			out = append(out, s)
		}
	}
	return out
}

func key(acts []int) string {
	b := make([]byte, 0, 4*len(acts))
	for _, a := range acts {
		b = append(b, byte(a>>24), byte(a>>16), byte(a>>8), byte(a))
	}
	return string(b)
}

// sublog is the working log of one recursion step: variants merged.
type sublog []Trace

// add appends acts with count c, merging it with an equal trace.
func (s *sublog) add(index map[string]int, acts []int, c int) {
	k := key(acts)
	if i, ok := index[k]; ok {
		(*s)[i].Count += c
		return
	}
	index[k] = len(*s)
	*s = append(*s, Trace{Acts: acts, Count: c})
}

// dfg is a directly-follows graph with start and end counts.
type dfg struct {
	acts       []int // sorted
	edge       map[[2]int]int
	start, end map[int]int
}

func newDFG(l sublog) *dfg {
	g := &dfg{edge: map[[2]int]int{}, start: map[int]int{}, end: map[int]int{}}
	seen := map[int]bool{}
	for _, t := range l {
		for i, a := range t.Acts {
			if !seen[a] {
				seen[a] = true
				g.acts = append(g.acts, a)
			}
			if i > 0 {
				g.edge[[2]int{t.Acts[i-1], a}] += t.Count
			}
		}
		if n := len(t.Acts); n > 0 {
			g.start[t.Acts[0]] += t.Count
			g.end[t.Acts[n-1]] += t.Count
		}
	}
	slices.Sort(g.acts)
	return g
}

// filtered returns the graph without the edges, start and end
// activities rarer than noise times the most frequent of their kind
// (IMf): an edge against its source's most frequent outgoing edge.
func (g *dfg) filtered(noise float64) *dfg {
	f := &dfg{acts: g.acts, edge: map[[2]int]int{}, start: map[int]int{}, end: map[int]int{}}
	maxOut := map[int]int{}
	for e, c := range g.edge {
		maxOut[e[0]] = max(maxOut[e[0]], c)
	}
	for e, c := range g.edge {
		if float64(c) >= noise*float64(maxOut[e[0]]) {
			f.edge[e] = c
		}
	}
	keep := func(m map[int]int, into map[int]int) {
		top := 0
		for _, c := range m {
			top = max(top, c)
		}
		for a, c := range m {
			if float64(c) >= noise*float64(top) {
				into[a] = c
			}
		}
	}
	keep(g.start, f.start)
	keep(g.end, f.end)
	return f
}

func (g *dfg) has(a, b int) bool { return g.edge[[2]int{a, b}] > 0 }
