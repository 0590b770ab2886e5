// This file implements the net table: the control part of a workflow net
// as the bit masks the dispatch module tests and updates, indexed as
// runtime/engine indexes the net (arcs in arc order, the firing priority
// of its Machine).

package hls

import (
	"fmt"

	"github.com/knhk/knhk/compiler/ir"
)

// maxBits is the widest marking, busy or output vector of the module.
const maxBits = 64

// What a transition does when it fires, for the module.
const (
	actProduce    = iota // produce its outputs at once (routing, assign, marker, return, wait, timer)
	actCall              // start a call: busy until its completion produces the outputs
	actFail              // produce, then the case fails
	actCancelCase        // the statement cancel case: the case ends cancelled
)

// ttab is one transition's arcs and sets.
type ttab struct {
	t        *ir.Transition
	in, inW  []int   // input places in arc order, and their weights
	out      []int   // output places in arc order
	outW     []int   // their weights
	upP, upT [][]int // OR join: per input, the places and transitions upstream; drain: its region
	cancelP  []int
	cancelT  []int
	reset    bool // CancelCase on a return or fail: the marking goes back to Init
	act      int
	chooses  bool
	eager    bool
	timer    bool
	wait     bool
	label    int // wait: index into table.labels
	priority int // position in the engine's firing order, eager only
}

// table is a net's control part.
type table struct {
	net        *ir.Net
	np, nt     int
	init       []int // Init tokens (without the start token)
	start, end int
	trans      []ttab
	order      []int // eager transitions: cancels first, then by index (runtime/engine's cnet.order)
	timers     []int // by index
	waits      []int // by index
	labels     []string
	persistent []bool
	outsW      int // widest output list
	// The layout the search of the reachable markings gives (layout.go):
	// place q holds up to pWid[q] tokens in bits pOff[q].. of the
	// marking, in thermometer code (n tokens: the field's n low bits);
	// a call transition t runs up to bWid[t] calls at once, counted
	// alike in the busy vector.
	pOff, pWid   []int
	bOff, bWid   []int
	pBits, bBits int
}

// newTable builds the table of n; reasons says why n's control part does
// not fit the module (then the table is incomplete).
func newTable(p *ir.Program, n *ir.Net) (*table, []string) {
	tb := &table{net: n, np: len(n.Places), nt: len(n.Transitions), start: int(n.Start), end: int(n.End), trans: make([]ttab, len(n.Transitions)), init: make([]int, len(n.Places))}
	var why []string
	add := func(format string, args ...any) { why = append(why, fmt.Sprintf(format, args...)) }
	if tb.np > maxBits {
		add("%d places do not fit a %d-bit marking", tb.np, maxBits)
	}
	if tb.start < 0 || tb.start >= tb.np || tb.end < 0 || tb.end >= tb.np {
		add("no start or end place")
	}
	if tb.nt > maxBits {
		add("%d transitions do not fit a %d-bit busy vector", tb.nt, maxBits)
	}
	if len(n.Hooks) > 0 {
		add("hooks (%s) run beside the net", n.Hooks[0].Name)
	}
	if len(why) > 0 {
		return tb, why
	}
	for i, pl := range n.Places {
		switch {
		case pl == nil:
			add("place %d is missing", i)
		case pl.Init < 0 || pl.Init > maxTokens:
			add("place %s starts with %d tokens, more than %d", pl.Name, pl.Init, maxTokens)
		default:
			tb.init[i] = int(pl.Init)
		}
	}
	producers := make([][]int, tb.np)
	for _, a := range n.Arcs {
		if a == nil || a.Place < 0 || int(a.Place) >= tb.np || a.Trans < 0 || int(a.Trans) >= tb.nt {
			add("an arc points outside the net")
			continue
		}
		w := int(max(a.Weight, 1))
		if w > maxTokens {
			add("arc %s-%s has weight %d, more than %d", n.Places[a.Place].Name, n.Transitions[a.Trans].Name, a.Weight, maxTokens)
		}
		tr := &tb.trans[a.Trans]
		if a.Out {
			tr.out = append(tr.out, int(a.Place))
			tr.outW = append(tr.outW, w)
			producers[a.Place] = append(producers[a.Place], int(a.Trans))
		} else {
			tr.in = append(tr.in, int(a.Place))
			tr.inW = append(tr.inW, w)
		}
		if a.Out && a.Guard != ir.NoFunc {
			tr.chooses = true
		}
	}
	for i, t := range n.Transitions {
		tr := &tb.trans[i]
		tr.t = t
		if t == nil {
			add("transition %d is missing", i)
			continue
		}
		tb.outsW = max(tb.outsW, len(tr.out))
		tr.chooses = t.Split != ir.SplitAnd && (len(tr.out) > 1 || tr.chooses)
		switch t.Kind {
		case ir.TWorkflow:
			add("transition %s calls a sub-workflow, which runs as a child frame", t.Name)
		case ir.TMulti:
			add("transition %s runs multiple instances, an unbounded number of child frames", t.Name)
		case ir.TSend:
			add("transition %s sends a signal to a case, which the module cannot deliver", t.Name)
		case ir.TTask, ir.TKernel, ir.TRoute:
			tr.act = actCall
		case ir.TFail:
			tr.act = actFail
		case ir.TCancel:
			if t.Cancel == ir.CancelCase {
				tr.act = actCancelCase
			}
		case ir.TTimer:
			tr.timer = true
		case ir.TSignal:
			tr.wait = true
			tr.label = tb.labelOf(t.Label)
		}
		tr.eager = !tr.timer && !tr.wait && len(tr.in) > 0
		switch t.Cancel {
		case ir.CancelTask:
			add("transition %s cancels task calls in every frame (cancel task)", t.Name)
		case ir.CancelCase:
			tr.reset = t.Kind != ir.TCancel
		case ir.CancelRegion:
			if t.Region < 0 || int(t.Region) >= len(n.Regions) || n.Regions[t.Region] == nil {
				add("transition %s cancels a missing region", t.Name)
				break
			}
			tr.cancelP = inRange(n.Regions[t.Region].Places, tb.np)
			tr.cancelT = inRange(n.Regions[t.Region].Transitions, tb.nt)
		}
		switch t.Join {
		case ir.JoinOr:
			for _, q := range tr.in {
				ps, ts := upstream(tb, producers, q, i)
				tr.upP = append(tr.upP, ps)
				tr.upT = append(tr.upT, ts)
			}
		case ir.JoinDrain:
			if t.Region < 0 || int(t.Region) >= len(n.Regions) || n.Regions[t.Region] == nil {
				add("transition %s drains a missing region", t.Name)
				break
			}
			tr.upP = [][]int{inRange(n.Regions[t.Region].Places, tb.np)}
			tr.upT = [][]int{inRange(n.Regions[t.Region].Transitions, tb.nt)}
		}
	}
	for _, pass := range []bool{true, false} {
		for i := range tb.trans {
			tr := &tb.trans[i]
			if tr.t != nil && tr.eager && (tr.t.Kind == ir.TCancel) == pass {
				tr.priority = len(tb.order)
				tb.order = append(tb.order, i)
			}
		}
	}
	for i := range tb.trans {
		if tb.trans[i].timer {
			tb.timers = append(tb.timers, i)
		}
		if tb.trans[i].wait {
			tb.waits = append(tb.waits, i)
		}
	}
	for _, l := range tb.labels {
		persistent := true
		for _, s := range n.Signals {
			if s != nil && s.Name == l && s.Transient {
				persistent = false
			}
		}
		tb.persistent = append(tb.persistent, persistent)
	}
	if len(tb.labels) > 16 {
		add("%d signals are waited for; the module has 16 inboxes", len(tb.labels))
	}
	return tb, why
}

// inRange returns the elements of xs in [0, n).
func inRange(xs []int32, n int) []int {
	var out []int
	for _, x := range xs {
		if x >= 0 && int(x) < n {
			out = append(out, int(x))
		}
	}
	return out
}

func (tb *table) labelOf(l string) int {
	for i, x := range tb.labels {
		if x == l {
			return i
		}
	}
	tb.labels = append(tb.labels, l)
	return len(tb.labels) - 1
}

// upstream returns the places and transitions from which a token can
// reach place x without passing through transition join, as
// runtime/engine computes an OR join's upstream sets.
func upstream(tb *table, producers [][]int, x, join int) (places, trans []int) {
	seenP := make([]bool, tb.np)
	seenT := make([]bool, tb.nt)
	seenP[x] = true
	stack := []int{x}
	for len(stack) > 0 {
		q := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, t := range producers[q] {
			if t == join || seenT[t] {
				continue
			}
			seenT[t] = true
			trans = append(trans, t)
			for _, a := range tb.trans[t].in {
				if !seenP[a] {
					seenP[a] = true
					places = append(places, a)
					stack = append(stack, a)
				}
			}
		}
	}
	return places, trans
}
