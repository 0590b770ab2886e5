// This file implements the values of the API: inputs and payloads
// decoded and checked against a workflow's parameter types, results and
// query answers encoded, by the rules knhk run and knhk signal apply (the
// same functions' logic as cmd/knhk's run.go, signal.go and query.go,
// which a main package cannot share).

package server

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/host"
)

// decodeInput decodes input as the parameters of net: the value of the
// only parameter, or an object with a member per parameter.
func decodeInput(p *ir.Program, net *ir.Net, input []byte) ([]eval.Value, error) {
	params := net.Params
	if len(params) == 1 {
		if input == nil {
			return nil, fmt.Errorf("%s needs an input (%s: %s)", net.Name, params[0].Name, p.TypeString(params[0].Type))
		}
		v, err := eval.FromJSONNamed(p, params[0].Type, params[0].Name, input)
		if err != nil {
			return nil, err
		}
		return []eval.Value{v}, nil
	}
	if input == nil {
		if len(params) == 0 {
			return nil, nil
		}
		input = []byte("{}")
	}
	fields := make([]ir.Field, len(params))
	for i, par := range params {
		fields[i] = ir.Field{Name: par.Name, Type: par.Type}
	}
	q := *p
	q.Types = append(append([]ir.Type(nil), p.Types...), ir.Type{Kind: ir.KindRecord, Fields: fields})
	rec, err := eval.FromJSON(&q, ir.FirstComposite+ir.TypeID(len(p.Types)), input)
	if err != nil {
		return nil, err
	}
	return rec.Elems(), nil
}

// decodePayload decodes the payload of signal sig by the input rule; for
// one parameter that is not a record, map or optional, an object with
// that one member is accepted too.
func decodePayload(p *ir.Program, sig *ir.Signal, payload []byte) ([]eval.Value, error) {
	params := sig.Params
	if len(params) == 1 && payload != nil {
		switch p.KindOf(params[0].Type) {
		case ir.KindRecord, ir.KindMap, ir.KindOptional:
		default:
			var obj map[string]json.RawMessage
			if json.Unmarshal(payload, &obj) == nil && len(obj) == 1 && obj[params[0].Name] != nil {
				payload = obj[params[0].Name]
			}
		}
	}
	if len(params) == 0 && payload != nil {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(payload, &obj); err != nil || len(obj) != 0 {
			return nil, fmt.Errorf("signal %s has no payload; give none or {}", sig.Name)
		}
		return nil, nil
	}
	return decodeInput(p, &ir.Net{Name: "signal " + sig.Name, Params: params}, payload)
}

// findSignal returns the declaration of signal name that a case of root
// accepts: root's own, or that of a net it may wait in.
func findSignal(p *ir.Program, root *ir.Net, name string) *ir.Signal {
	for _, s := range root.Signals {
		if s != nil && s.Name == name {
			return s
		}
	}
	for _, n := range p.Nets {
		if n == nil || n == root {
			continue
		}
		for _, s := range n.Signals {
			if s == nil || s.Name != name {
				continue
			}
			for _, t := range n.Transitions {
				if t != nil && t.Kind == ir.TSignal && t.Label == name {
					return s
				}
			}
		}
	}
	return nil
}

func signalNames(root *ir.Net) []string {
	var names []string
	for _, s := range root.Signals {
		if s != nil {
			names = append(names, s.Name)
		}
	}
	return names
}

// waits returns the signals that an enabled wait of s listens for, or
// that a running parallel for adds instances on, sorted.
func waits(p *ir.Program, s *engine.State) []string {
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

// resultJSON encodes the result of a completed case of net; "" for void.
func resultJSON(p *ir.Program, net *ir.Net, result any) (string, error) {
	if p.KindOf(net.Result) == ir.KindVoid {
		return "", nil
	}
	v, err := host.FromEngine(p, result, net.Result)
	if err != nil {
		return "", err
	}
	b, err := eval.ToJSON(p, v, net.Result)
	return string(b), err
}

// evalQuery evaluates q over the root variables of s and returns its JSON.
func evalQuery(ctx context.Context, p *ir.Program, s *engine.State, q *ir.Query) ([]byte, error) {
	if q.Value < 0 || int(q.Value) >= len(p.Funcs) || p.Funcs[q.Value] == nil {
		return nil, fmt.Errorf("the descriptor has no function for it")
	}
	fn := p.Funcs[q.Value]
	var h host.Evaluator
	x, err := h.Eval(ctx, fn, engine.Env{Prog: p, Vars: rootVars{s: s, f: s.Root()}})
	if err != nil {
		return nil, err
	}
	v, err := host.FromEngine(p, x, fn.Result)
	if err != nil {
		return nil, err
	}
	return eval.ToJSON(p, v, fn.Result)
}

// rootVars reads the variables of the root frame of a state.
type rootVars struct {
	s *engine.State
	f *engine.Frame
}

func (r rootVars) Var(i int32) any {
	if r.f == nil {
		return nil
	}
	return r.s.Var(r.f, i)
}
