// This file implements the Machine: a program's nets indexed for firing.

package engine

import (
	"fmt"

	"github.com/knhk/knhk/compiler/ir"
)

// Machine is a compiled program prepared for running cases: arcs per
// transition, OR-join upstream sets, cancellation sets. It is immutable
// and shared by every case of the program.
type Machine struct {
	Prog *ir.Program
	nets []*cnet
	snap codec // built on the first snapshot
}

type carc struct {
	place, weight int32
	guard         ir.FuncID
}

type ctrans struct {
	t       *ir.Transition
	in, out []carc
	// upPlaces[k] and upTrans[k]: the places and transitions from which a
	// token can reach in[k] without passing through this transition (OR
	// joins only). A running call or child case of an upstream transition
	// counts as a token.
	upPlaces, upTrans [][]int32
	cancelPlaces      []int32
	cancelTrans       []int32
	eager             bool // fires as soon as it is enabled (not a timer or signal)
	chooses           bool // an XOR or OR split with guards to evaluate
}

type cnet struct {
	n     *ir.Net
	trans []ctrans
	init  []int32
	// order is the firing priority: TCancel transitions first, then the
	// others by index.
	order []int32
	// timed and waits are the timer and signal transitions.
	timed, waits []int32
}

// NewMachine indexes p, which should have passed [ir.Program.Verify]. It
// returns an error for a net whose arcs or regions point outside it.
func NewMachine(p *ir.Program) (*Machine, error) {
	m := &Machine{Prog: p, nets: make([]*cnet, len(p.Nets))}
	for i, n := range p.Nets {
		if n == nil {
			continue
		}
		c, err := compileNet(n)
		if err != nil {
			return nil, fmt.Errorf("workflow %s: %v", n.Name, err)
		}
		m.nets[i] = c
	}
	return m, nil
}

func compileNet(n *ir.Net) (*cnet, error) {
	np, nt := int32(len(n.Places)), int32(len(n.Transitions))
	if n.Start < 0 || n.Start >= np || n.End < 0 || n.End >= np {
		return nil, fmt.Errorf("no start or end place")
	}
	c := &cnet{n: n, trans: make([]ctrans, nt), init: make([]int32, np)}
	for i, p := range n.Places {
		if p != nil {
			c.init[i] = p.Init
		}
	}
	producers := make([][]int32, np)
	for _, a := range n.Arcs {
		if a == nil || a.Place < 0 || a.Place >= np || a.Trans < 0 || a.Trans >= nt {
			return nil, fmt.Errorf("arc out of range")
		}
		tr := &c.trans[a.Trans]
		ca := carc{a.Place, max(a.Weight, 1), a.Guard}
		if a.Out {
			tr.out = append(tr.out, ca)
			producers[a.Place] = append(producers[a.Place], a.Trans)
		} else {
			tr.in = append(tr.in, ca)
		}
	}
	for i, t := range n.Transitions {
		if t == nil {
			return nil, fmt.Errorf("transition %d is missing", i)
		}
		tr := &c.trans[i]
		tr.t = t
		if t.Cancel == ir.CancelRegion || t.Cancel == ir.CancelTask {
			if t.Region < 0 || int(t.Region) >= len(n.Regions) || n.Regions[t.Region] == nil {
				return nil, fmt.Errorf("transition %s cancels a missing region", t.Name)
			}
			r := n.Regions[t.Region]
			for _, p := range r.Places {
				if p >= 0 && p < np {
					tr.cancelPlaces = append(tr.cancelPlaces, p)
				}
			}
			for _, x := range r.Transitions {
				if x >= 0 && x < nt {
					tr.cancelTrans = append(tr.cancelTrans, x)
				}
			}
		}
		tr.chooses = t.Split != ir.SplitAnd && (len(tr.out) > 1 || len(tr.out) == 1 && tr.out[0].guard != ir.NoFunc)
		switch t.Kind {
		case ir.TTimer:
			c.timed = append(c.timed, int32(i))
		case ir.TSignal:
			c.waits = append(c.waits, int32(i))
		default:
			tr.eager = len(tr.in) > 0
		}
		if t.Join == ir.JoinDrain {
			if t.Region < 0 || int(t.Region) >= len(n.Regions) || n.Regions[t.Region] == nil {
				return nil, fmt.Errorf("transition %s drains a missing region", t.Name)
			}
			r := n.Regions[t.Region]
			tr.upPlaces = [][]int32{inRange(r.Places, np)}
			tr.upTrans = [][]int32{inRange(r.Transitions, nt)}
		}
		if t.Join == ir.JoinOr {
			tr.upPlaces = make([][]int32, len(tr.in))
			tr.upTrans = make([][]int32, len(tr.in))
			for k, a := range tr.in {
				tr.upPlaces[k], tr.upTrans[k] = upstream(c, a.place, int32(i), producers)
			}
		}
	}
	for i := range c.trans {
		if c.trans[i].t.Kind == ir.TCancel && c.trans[i].eager {
			c.order = append(c.order, int32(i))
		}
	}
	for i := range c.trans {
		if c.trans[i].t.Kind != ir.TCancel && c.trans[i].eager {
			c.order = append(c.order, int32(i))
		}
	}
	return c, nil
}

// inRange returns the elements of xs in [0, n).
func inRange(xs []int32, n int32) []int32 {
	var out []int32
	for _, x := range xs {
		if x >= 0 && x < n {
			out = append(out, x)
		}
	}
	return out
}

// upstream returns the places and transitions with a path to place x that
// avoids transition join, by a backward search (as compiler/sound does).
func upstream(c *cnet, x, join int32, producers [][]int32) (places, trans []int32) {
	seenP := make([]bool, len(c.init))
	seenT := make([]bool, len(c.trans))
	seenP[x] = true
	stack := []int32{x}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, t := range producers[p] {
			if t == join || seenT[t] {
				continue
			}
			seenT[t] = true
			trans = append(trans, t)
			for _, a := range c.trans[t].in {
				if !seenP[a.place] {
					seenP[a.place] = true
					places = append(places, a.place)
					stack = append(stack, a.place)
				}
			}
		}
	}
	return places, trans
}

// accepts reports whether a case of net root may receive signal name:
// the net declares it or some net of the program waits for it.
func (m *Machine) accepts(root int32, name string) bool {
	if c := m.net(root); c != nil {
		for _, s := range c.n.Signals {
			if s != nil && s.Name == name {
				return true
			}
		}
	}
	for _, c := range m.nets {
		if c == nil {
			continue
		}
		for _, ti := range c.waits {
			if c.trans[ti].t.Label == name {
				return true
			}
		}
	}
	return false
}

// net returns the compiled net i, or nil.
func (m *Machine) net(i int32) *cnet {
	if i < 0 || int(i) >= len(m.nets) {
		return nil
	}
	return m.nets[i]
}
