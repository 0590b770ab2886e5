// This file implements the names of calls and steps for people, shared
// by the view, knhk history and export and the server's history.

package view

import "github.com/knhk/knhk/compiler/ir"

// CalleeName returns the name of what c calls (task, workflow or
// kernel), "" when c is nil or its target is out of range.
func CalleeName(p *ir.Program, c *ir.Call) string {
	if c == nil {
		return ""
	}
	i := int(c.Target)
	switch c.Kind {
	case ir.CallTask:
		if i >= 0 && i < len(p.Tasks) && p.Tasks[i] != nil {
			return p.Tasks[i].Name
		}
	case ir.CallWorkflow:
		if i >= 0 && i < len(p.Nets) && p.Nets[i] != nil {
			return p.Nets[i].Name
		}
	case ir.CallKernel:
		if i >= 0 && i < len(p.Kernels) && p.Kernels[i] != nil {
			return p.Kernels[i].Name
		}
	}
	return ""
}

// StepName names a transition of the compiled net for people: the task,
// kernel or workflow it calls, the signal or marker it waits on, or its
// internal name. Unlike [Graph.Step] it names bookkeeping steps too.
func StepName(p *ir.Program, t *ir.Transition) string {
	if t.Call != nil && t.Kind != ir.TMulti {
		if n := CalleeName(p, t.Call); n != "" {
			return n
		}
	}
	if t.Label != "" {
		return t.Label
	}
	return t.Name
}

// Resource is the process-mining org:resource of a call: the kind of
// binding that runs a task, "kernel" for a kernel, "" otherwise.
func Resource(p *ir.Program, c *ir.Call) string {
	switch c.Kind {
	case ir.CallTask:
		if i := int(c.Target); i >= 0 && i < len(p.Tasks) && p.Tasks[i] != nil {
			return p.Tasks[i].Binding.Kind.String()
		}
	case ir.CallKernel:
		return "kernel"
	}
	return ""
}
