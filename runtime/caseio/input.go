// This file implements inputs and payloads: JSON decoded as the
// parameters of a workflow or a signal.

package caseio

import (
	"encoding/json"
	"fmt"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// DecodeInput decodes input (nil for none) as the parameters of net: for
// one parameter, its value; for several, an object with one member per
// parameter (every one present unless optional, no unknown member); for
// none, nothing or {}.
func DecodeInput(p *ir.Program, net *ir.Net, input []byte) ([]eval.Value, error) {
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
	// The parameters as one record type, decoded with eval's JSON rules.
	q := *p
	q.Types = append(append([]ir.Type(nil), p.Types...), ir.Type{Kind: ir.KindRecord, Fields: fields})
	rec, err := eval.FromJSON(&q, ir.FirstComposite+ir.TypeID(len(p.Types)), input)
	if err != nil {
		return nil, err
	}
	return rec.Elems(), nil
}

// DecodePayload decodes the payload of signal sig by DecodeInput's rule.
// For one parameter whose type is not a record, map or optional, an
// object with that one member is accepted as well ({"by": "ann"} for
// Approve(by: string)): it cannot be mistaken for the value itself.
func DecodePayload(p *ir.Program, sig *ir.Signal, payload []byte) ([]eval.Value, error) {
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
	return DecodeInput(p, &ir.Net{Name: "signal " + sig.Name, Params: params}, payload)
}

// FindSignal returns the declaration of signal name that a case of root
// accepts: root's own, or that of a net it may wait in; nil if none.
func FindSignal(p *ir.Program, root *ir.Net, name string) *ir.Signal {
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
			if s != nil && s.Name == name && waitsFor(n, name) {
				return s
			}
		}
	}
	return nil
}

func waitsFor(n *ir.Net, name string) bool {
	for _, t := range n.Transitions {
		if t != nil && t.Kind == ir.TSignal && t.Label == name {
			return true
		}
	}
	return false
}

// SignalNames lists the signals root declares, for error messages.
func SignalNames(root *ir.Net) []string {
	var names []string
	for _, s := range root.Signals {
		if s != nil {
			names = append(names, s.Name)
		}
	}
	return names
}
