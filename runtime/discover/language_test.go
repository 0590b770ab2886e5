package discover

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// accepts says whether the net's language holds the trace, exactly: a
// breadth-first search over the markings reachable by the trace's
// activities with silent transitions between them (the nets of trees
// are safe, so there are few markings). Token replay, which fitness
// uses, is greedy and can miss a way through a model that has one.
func (p *net) accepts(trace []string) bool {
	start := make(marking, p.places)
	start[p.source] = 1
	cur := p.closure([]marking{start})
	for _, a := range trace {
		var next []marking
		for _, m := range cur {
			for _, t := range p.byLabel[a] {
				if p.enabled(m, t) {
					n := append(marking(nil), m...)
					p.fire(n, t)
					next = append(next, n)
				}
			}
		}
		cur = p.closure(next)
		if len(cur) == 0 {
			return false
		}
	}
	for _, m := range cur {
		if m[p.end] == 1 && sum(m) == 1 {
			return true
		}
	}
	return false
}

func sum(m marking) int {
	s := 0
	for _, x := range m {
		s += x
	}
	return s
}

// closure adds the markings reachable by silent transitions.
func (p *net) closure(ms []marking) []marking {
	seen := map[string]bool{}
	var out []marking
	for len(ms) > 0 {
		m := ms[len(ms)-1]
		ms = ms[:len(ms)-1]
		if k := m.key(); seen[k] {
			continue
		} else {
			seen[k] = true
		}
		out = append(out, m)
		for t, tr := range p.trans {
			if tr.label == "" && p.enabled(m, t) {
				n := append(marking(nil), m...)
				p.fire(n, t)
				ms = append(ms, n)
			}
		}
	}
	return out
}

// TestRandomLogsInLanguage: on random logs every trace is in the
// language of the plain miner's tree (the inductive miner's guarantee;
// pm4py 2.2.0's loop cut, which grouped the redo parts by forward
// reachability only, broke it, see classicLoopCut), and IMf's tree is
// a tree that scores, whatever the log.
func TestRandomLogsInLanguage(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 400 {
		l := &Log{}
		ids := map[string]int{}
		var seqs [][]string
		for range 1 + rng.IntN(8) {
			var tr Trace
			var seq []string
			for range rng.IntN(7) {
				a := string(rune('a' + rng.IntN(5)))
				if _, ok := ids[a]; !ok {
					ids[a] = len(l.Names)
					l.Names = append(l.Names, a)
				}
				tr.Acts = append(tr.Acts, ids[a])
				seq = append(seq, a)
			}
			tr.Count = 1
			l.Traces = append(l.Traces, tr)
			seqs = append(seqs, seq)
		}
		if len(l.Names) == 0 {
			continue
		}
		tree, err := Discover(l, Options{})
		if err != nil {
			t.Fatal(err)
		}
		p := netOf(tree)
		for _, s := range seqs {
			if !p.accepts(s) {
				t.Fatalf("log %d: %q not in the language of %s", i, strings.Join(s, " "), tree)
			}
		}
		f, err := Discover(l, Options{Noise: 0.2})
		if err != nil {
			t.Fatal(err)
		}
		Evaluate(f, l)
	}
}

// TestLoopRedoConnected: a redo part is a connected group of the
// activities outside the body, taken either way: d a b between two c's
// is one redo part, not b or d a, which pm4py 2.2.0's loop cut made of
// it (d reaches a, a reaches b, but b was grouped first), so that its
// tree could not replay the second trace.
func TestLoopRedoConnected(t *testing.T) {
	l := &Log{Names: []string{"c", "b", "d", "a"}, Traces: []Trace{{Acts: []int{0, 1, 0}, Count: 1}, {Acts: []int{0, 2, 3, 1, 0}, Count: 1}}}
	tree, err := Discover(l, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := netOf(tree)
	for _, s := range [][]string{{"c", "b", "c"}, {"c", "d", "a", "b", "c"}} {
		if !p.accepts(s) {
			t.Errorf("%q not in the language of %s", s, tree)
		}
	}
}
