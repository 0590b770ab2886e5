// This file implements naming the events of a history after the view.

package view

import "github.com/knhk/knhk/compiler/ir"

// Step says how a history shows an event of transition t of the graph's
// net (p being the program the graph was built from): show is false for
// a bookkeeping step, which a user-level history leaves out, and name is
// the step's source name (the task called, the signal, "if", "join all",
// "for each"). The step that completes the case is shown as "return",
// so that a history still shows the case ending.
func (g *Graph) Step(p *ir.Program, t int32) (name string, show bool) {
	n := p.Nets[g.Net]
	if t < 0 || int(t) >= len(n.Transitions) {
		return "", false
	}
	tr := n.Transitions[t]
	if !g.Visible(t) {
		if tr.Kind == ir.TReturn {
			return "return", true
		}
		return "", false
	}
	nd := &g.Nodes[g.TransNode[t]]
	switch {
	case nd.Kind == Task && tr.Kind != ir.TMulti, nd.Kind == Wait:
		return nd.Name, true
	}
	return nd.Label(), true
}
