package sound

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/knhk/knhk/compiler/ir"
)

// randomNet builds a small random net that verifies: every transition has
// an input, start has no producer and end no consumer.
func randomNet(r *rand.Rand) (*ir.Program, *ir.Net) {
	return build("random", func(b *ir.NetBuilder) {
		np := 3 + r.IntN(6)
		for i := 2; i < np; i++ {
			b.Place(fmt.Sprintf("p%d", i))
			if r.IntN(10) == 0 {
				b.N.Places[i].Init = 1
			}
		}
		nt := 2 + r.IntN(7)
		type key struct {
			p, t int32
			out  bool
		}
		seen := map[key]bool{}
		arc := func(p, t int32, out bool) {
			if seen[key{p, t, out}] {
				return
			}
			seen[key{p, t, out}] = true
			if out {
				b.Out(t, p)
			} else {
				b.In(p, t)
			}
		}
		for i := 0; i < nt; i++ {
			t := b.Trans(fmt.Sprintf("t%d", i), ir.TNop)
			tr := b.T(t)
			tr.Join = ir.JoinKind(r.IntN(4))
			tr.Split = ir.SplitKind(r.IntN(3))
			// Inputs: never the end place.
			in := 1 + r.IntN(2)
			for k := 0; k < in; k++ {
				p := int32(r.IntN(np))
				if p == b.N.End {
					p = b.N.Start
				}
				if i == 0 {
					p = b.N.Start
				}
				arc(p, t, false)
			}
			out := 1 + r.IntN(2)
			for k := 0; k < out; k++ {
				p := int32(1 + r.IntN(np-1)) // never the start place
				arc(p, t, true)
			}
			if r.IntN(12) == 0 {
				b.N.Arcs[len(b.N.Arcs)-1].Weight = 2
			}
			if tr.Join == ir.JoinPartial {
				tr.JoinN = 1
			}
			switch r.IntN(8) {
			case 0:
				tr.Cancel = ir.CancelCase
			case 1:
				var ps []int32
				for p := 2; p < np; p++ {
					if r.IntN(2) == 0 {
						ps = append(ps, int32(p))
					}
				}
				tr.Cancel, tr.Region = ir.CancelRegion, b.Region(fmt.Sprintf("r%d", i), ps, nil)
			}
		}
	})
}

func kindSet(r *Report) []string {
	var out []string
	for _, p := range r.Problems {
		s := p.Kind.String()
		if p.Kind == DeadTransition {
			s += fmt.Sprint(p.Transition)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// TestReductionAgrees checks on random nets that the reduced exploration
// reaches the same verdict, problem kinds and dead transitions as the full
// one, and that every trace replays.
func TestReductionAgrees(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	compared := 0
	for i := 0; i < 3000; i++ {
		p, n := randomNet(r)
		if err := p.Verify(); err != nil {
			t.Fatalf("net %d does not verify: %v", i, err)
		}
		opts := &Options{AllOrders: true, MaxStates: 5000, TokenBound: 6}
		full := Check(n, &Options{AllOrders: true, MaxStates: opts.MaxStates, TokenBound: opts.TokenBound, NoReduce: true})
		red := Check(n, opts)
		if !full.Complete || !red.Complete {
			continue
		}
		compared++
		if full.Sound != red.Sound || !slices.Equal(kindSet(full), kindSet(red)) {
			t.Fatalf("net %d: full %v, reduced %v\n%s", i, kindSet(full), kindSet(red), p)
		}
		for _, rep := range []*Report{full, red} {
			for _, pr := range rep.Problems {
				replay(t, n, pr)
			}
		}
	}
	if compared < 1000 {
		t.Fatalf("only %d nets compared", compared)
	}
}

// replay checks that trace is a firing sequence of n from the start that
// can end in a marking with the problem's tokens. It tracks every marking
// the steps could lead to, since a trace does not record which arcs of a
// split or join were chosen; it relaxes the OR join's waiting rule, so it
// checks the trace's consistency rather than re-deciding enabledness.
func replay(t *testing.T, n *ir.Net, pr Problem) {
	t.Helper()
	c := compile(n)
	m := make([]byte, len(n.Places))
	for i, x := range c.initial {
		m[i] = byte(x)
	}
	m[n.Start]++
	set := map[string]bool{string(m): true}
	for i, s := range pr.Trace {
		tr := &c.trans[s.Transition]
		next := map[string]bool{}
		for cur := range set {
			m := []byte(cur)
			for _, consume := range replayJoins(tr, m) {
				m1 := append([]byte(nil), m...)
				for _, k := range consume {
					m1[tr.in[k].place] -= byte(tr.in[k].weight)
				}
				switch tr.t.Cancel {
				case ir.CancelCase:
					for i, x := range c.initial {
						m1[i] = byte(x)
					}
				case ir.CancelRegion:
					for _, p := range tr.cancel {
						m1[p] = 0
					}
				}
				for _, outs := range tr.splits {
					m2 := append([]byte(nil), m1...)
					for _, k := range outs {
						m2[tr.out[k].place] += byte(tr.out[k].weight)
					}
					if len(next) < 10000 {
						next[string(m2)] = true
					}
				}
			}
		}
		if len(next) == 0 {
			t.Fatalf("step %d (%s) of trace %q is not enabled", i, s.Name, pr.TraceString())
		}
		set = next
	}
	if pr.Kind == Unbounded || pr.Kind == DeadTransition {
		return
	}
	want := strings.Join(pr.Tokens, ", ")
	e := newExplorer(c, Options{AllOrders: true, MaxStates: 1, TokenBound: 6})
	var got []string
	for cur := range set {
		s := strings.Join(e.tokens([]byte(cur)), ", ")
		if s == want {
			return
		}
		got = append(got, s)
	}
	t.Fatalf("trace %q cannot end with tokens %q; it ends with one of %q", pr.TraceString(), want, got)
}

func replayJoins(tr *trans, m []byte) [][]int {
	var marked []int
	for k, a := range tr.in {
		if int32(m[a.place]) >= a.weight {
			marked = append(marked, k)
		}
	}
	switch tr.t.Join {
	case ir.JoinXor:
		var modes [][]int
		for _, k := range marked {
			modes = append(modes, []int{k})
		}
		return modes
	case ir.JoinOr:
		if len(marked) == 0 {
			return nil
		}
		return [][]int{marked}
	case ir.JoinPartial:
		if len(marked) == 0 || len(marked) < int(tr.t.JoinN) {
			return nil
		}
		return [][]int{marked}
	}
	if len(marked) < len(tr.in) {
		return nil
	}
	return [][]int{marked}
}
