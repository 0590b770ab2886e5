// This file implements the decoding of a start's or a signal's
// arguments written as a JSON array, as the pattern traces and the back
// ends' differential tests write their actions.

package host

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// JSONArgs decodes js, a JSON array of arguments (blank for none), into
// eval values (boxed for [engine.Engine.Start] and Signal), typed by the parameters of workflow name when start
// is set and otherwise by the payload of signal name (the last signal of
// that name that any net declares).
func JSONArgs(p *ir.Program, start bool, name, js string) ([]any, error) {
	var params []ir.Param
	if start {
		n := p.Net(name)
		if n == nil {
			return nil, fmt.Errorf("no workflow %s", name)
		}
		params = n.Params
	} else {
		for _, n := range p.Nets {
			for _, sg := range n.Signals {
				if sg != nil && sg.Name == name {
					params = sg.Params
				}
			}
		}
	}
	var raw []json.RawMessage
	if strings.TrimSpace(js) != "" {
		if err := json.Unmarshal([]byte(js), &raw); err != nil {
			return nil, err
		}
	}
	if len(raw) != len(params) {
		return nil, fmt.Errorf("%d values for %d parameters", len(raw), len(params))
	}
	out := make([]any, len(raw))
	for i, r := range raw {
		v, err := eval.FromJSON(p, params[i].Type, r)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}
