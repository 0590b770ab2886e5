// This file implements what a case's state says to a front: the signals
// it waits for, whether a call backs off, and its queries.

package caseio

import (
	"context"
	"fmt"
	"sort"

	"github.com/knhk/knhk/accel"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/host"
)

// Waits returns the signals that an enabled wait of s listens for, or
// that a running parallel for adds instances on (more on), sorted.
func Waits(p *ir.Program, s *engine.State) []string {
	seen := map[string]bool{}
	var names []string
	for _, f := range s.Frames {
		if f == nil || f.Net < 0 || int(f.Net) >= len(p.Nets) {
			continue
		}
		n := p.Nets[f.Net]
		for ti, t := range n.Transitions {
			if t.Kind == ir.TSignal && !seen[t.Label] && inputsMarked(n, int32(ti), f.Marking) {
				seen[t.Label] = true
				names = append(names, t.Label)
			}
		}
		for _, g := range f.Groups {
			if g == nil || g.Joined || g.Trans < 0 || int(g.Trans) >= len(n.Transitions) {
				continue
			}
			if t := n.Transitions[g.Trans]; t.Kind == ir.TMulti && t.Label != "" && !seen[t.Label] {
				seen[t.Label] = true
				names = append(names, t.Label)
			}
		}
	}
	sort.Strings(names)
	return names
}

// SignalWait returns the wait that a signal name arriving in s takes, as
// the engine picks it: the first wait for it, in frame and net order,
// whose input places all hold a token; -1, -1 when none does (the signal
// goes to the inbox). Waits behind joins other than AND do not occur.
func SignalWait(p *ir.Program, s *engine.State, name string) (net, trans int32) {
	for _, f := range s.Frames {
		if f == nil || f.Net < 0 || int(f.Net) >= len(p.Nets) {
			continue
		}
		n := p.Nets[f.Net]
		for ti, t := range n.Transitions {
			if t.Kind == ir.TSignal && t.Label == name && inputsMarked(n, int32(ti), f.Marking) {
				return f.Net, int32(ti)
			}
		}
	}
	return -1, -1
}

func inputsMarked(n *ir.Net, ti int32, marking []int32) bool {
	inputs := false
	for _, a := range n.Arcs {
		if a.Trans != ti || a.Out {
			continue
		}
		inputs = true
		if int(a.Place) >= len(marking) || marking[a.Place] < max(a.Weight, 1) {
			return false
		}
	}
	return inputs
}

// BackingOff reports whether a call of s waits for its next attempt.
func BackingOff(s *engine.State) bool {
	for _, v := range s.Invs {
		if v.Waiting {
			return true
		}
	}
	return false
}

// Query evaluates q over the root variables of s and returns its JSON.
// Its kernel calls go to the process's device runner (KNHK_DEVICE), as
// the case's own steps do.
func Query(ctx context.Context, p *ir.Program, s *engine.State, q *ir.Query) ([]byte, error) {
	return QueryWith(ctx, &host.Evaluator{Kernels: accel.Shared()}, p, s, q)
}

// QueryWith is [Query] with the evaluator ev: a binary made by knhk
// build evaluates its queries with its compiled functions.
func QueryWith(ctx context.Context, ev engine.Evaluator, p *ir.Program, s *engine.State, q *ir.Query) ([]byte, error) {
	if q.Value < 0 || int(q.Value) >= len(p.Funcs) || p.Funcs[q.Value] == nil {
		return nil, fmt.Errorf("the descriptor has no function for it")
	}
	fn := p.Funcs[q.Value]
	v, err := ev.Eval(ctx, fn, engine.Env{Prog: p, Vars: RootVars{S: s, F: s.Root()}})
	if err != nil {
		return nil, err
	}
	return eval.ToJSON(p, v, fn.Result)
}

// RootVars reads the variables of the root frame F of state S.
type RootVars struct {
	S *engine.State
	F *engine.Frame
}

// Var returns variable i of the frame (void without one).
func (r RootVars) Var(i int32) eval.Value {
	if r.F == nil {
		return eval.Value{}
	}
	return r.S.Var(r.F, i)
}

// Result returns the JSON of the result of a completed case of net, ""
// when net returns nothing.
func Result(p *ir.Program, net *ir.Net, result eval.Value) ([]byte, error) {
	if p.KindOf(net.Result) == ir.KindVoid {
		return nil, nil
	}
	return eval.ToJSON(p, result, net.Result)
}
