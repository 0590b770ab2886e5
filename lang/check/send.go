// This file implements the send statement: the signal it raises must be
// declared by the workflow that receives it, its arguments must fit the
// signal's parameters and its target case id must be a string.

package check

import (
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// sendStmt checks "send S(args)", "send S(args) to id" and "send
// W.S(args) to id". Without W the signal is one the sending workflow
// declares (by a signal declaration or a select arm); with W it is one
// workflow W of this file declares, and the statement needs a target.
func (c *checker) sendStmt(s *syntax.SendStmt) {
	if s.Signal == nil {
		return
	}
	if s.To != nil {
		t := c.value(s.To, TypString)
		if !isInvalid(t) && !isString(t) {
			c.errorf(s.To.Span(), source.BadSend, "send: the target case id must be a string, found %s (type %s)", c.exprString(s.To), t)
		}
	}
	params, ok := c.sendParams(s)
	if !ok {
		c.args(s.Args)
		return
	}
	name := s.Signal.Value
	c.argValues(s.Args, params, "signal "+name)
	switch n := len(s.Args); {
	case n < len(params):
		c.errorf(s.Span(), source.WrongArgCount, "not enough arguments in send of signal %s (have %d, want %d: %s)", name, n, len(params), &Signature{Params: params, Result: TypVoid})
	case n > len(params):
		c.errorf(s.Args[len(params)].Span(), source.WrongArgCount, "too many arguments in send of signal %s (have %d, want %d)", name, n, len(params))
	}
}

// sendParams resolves the signal a send raises and returns its
// parameters; ok is false when the signal is unknown (already reported).
func (c *checker) sendParams(s *syntax.SendStmt) ([]*Var, bool) {
	name := s.Signal.Value
	if c.body == nil || c.body.kind != ObjWorkflow || c.body.obj == nil {
		c.errorf(s.Span(), source.BadSend, "send is only allowed in a workflow")
		return nil, false
	}
	self := c.body.obj
	if s.Workflow != nil && s.Workflow.Value != self.name {
		obj := c.lookup(s.Workflow.Value)
		cl, isCl := obj.(*Callable)
		if !isCl || cl.kind != ObjWorkflow {
			d := c.errorf(s.Workflow.Span(), source.BadSend, "send %s.%s: %s is not a workflow of this file", s.Workflow.Value, name, s.Workflow.Value)
			c.suggestFix(d, s.Workflow.Span(), s.Workflow.Value, c.workflowNames())
			return nil, false
		}
		c.info.TypeUses[s.Workflow] = cl
		if s.To == nil {
			c.errorf(s.Span(), source.BadSend, "send %s.%s needs a target case (to ID): the running case runs workflow %s, not %s", s.Workflow.Value, name, self.name, cl.name)
			return nil, false
		}
		params, decl := c.otherSignal(cl, name)
		if decl == nil {
			c.errorf(s.Signal.Span(), source.BadSend, "send %s.%s: workflow %s declares no signal %s", cl.name, name, cl.name, name)
			return nil, false
		}
		// The signal is a label of the other workflow's body; this one
		// stands for it, so that the compiler and hover see its type.
		c.info.TypeUses[s.Signal] = &Label{object: object{name: name, kind: ObjSignal, typ: &Signature{Params: params, Result: TypVoid},
			file: c.file, span: decl.Span(), decl: decl}}
		return params, true
	}
	if s.Workflow != nil {
		c.info.TypeUses[s.Workflow] = self
	}
	l := c.findLabel(ObjSignal, name)
	if l == nil {
		d := c.errorf(s.Signal.Span(), source.BadSend, "send %s: no signal %s is declared in workflow %s (declare it with signal %s(...))", name, name, self.name, name)
		c.suggestFix(d, s.Signal.Span(), name, c.labelNames(ObjSignal))
		return nil, false
	}
	c.info.TypeUses[s.Signal] = l
	sig, _ := l.typ.(*Signature)
	if sig == nil {
		return nil, true
	}
	return sig.Params, true
}

// workflowNames lists the workflows of this file, for suggestions.
func (c *checker) workflowNames() []string {
	var out []string
	for _, o := range c.fileScope.list {
		if cl, ok := o.(*Callable); ok && cl.kind == ObjWorkflow {
			out = append(out, cl.name)
		}
	}
	return out
}

// otherSignal finds signal name of workflow cl (a signal declaration, or
// else the first select arm that waits for it) and resolves its
// parameter types in the file scope. Errors in those types are that
// workflow's and are reported when it is checked, so they are dropped
// here.
func (c *checker) otherSignal(cl *Callable, name string) ([]*Var, *syntax.Name) {
	d, _ := cl.decl.(*syntax.WorkflowDecl)
	if d == nil || d.Body == nil {
		return nil, nil
	}
	var (
		params []*syntax.Param
		found  *syntax.Name
		arm    bool
	)
	syntax.Inspect(d.Body, func(n any) bool {
		switch n := n.(type) {
		case *syntax.SignalDecl:
			if n.Name != nil && n.Name.Value == name && (found == nil || arm) {
				params, found, arm = n.Params, n.Name, false
			}
		case *syntax.Arm:
			if n.Signal != nil && n.Signal.Value == name && found == nil {
				params, found, arm = n.Params, n.Signal, true
			}
		}
		return true
	})
	if found == nil {
		return nil, nil
	}
	ld := c.ld
	nd, ne, full := len(ld.diags), ld.nerrors, ld.full
	saved := c.scope
	c.scope = c.fileScope
	sig := c.paramsSig(params, false)
	c.scope = saved
	ld.diags, ld.nerrors, ld.full = ld.diags[:nd], ne, full
	return sig.Params, found
}
