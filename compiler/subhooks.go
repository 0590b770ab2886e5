// This file warns about hooks that will not run: a sub-workflow's hooks
// run in the frame of each call of it, except its fail hooks, since a
// failure belongs to the whole case (whose own fail hooks run).

package compiler

import (
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// declaresFailHooks reports whether workflow obj declares a hook on fail.
func declaresFailHooks(obj check.Object) bool {
	d, ok := obj.Decl().(*syntax.WorkflowDecl)
	if !ok || d == nil || d.Body == nil {
		return false
	}
	found := false
	syntax.Inspect(d.Body, func(n any) bool {
		if h, ok := n.(*syntax.HookStmt); ok && h.Event == "fail" {
			found = true
		}
		return !found
	})
	return found
}

// warnSubHooks warns, at a call of workflow obj from another workflow,
// that obj's fail hooks do not run for that call.
func (w *wf) warnSubHooks(obj check.Object, sp source.Span) {
	if !declaresFailHooks(obj) {
		return
	}
	w.l.diags = append(w.l.diags, &source.Diagnostic{Severity: source.Warning, Code: source.NotImplemented, File: w.file, Span: sp,
		Message: "the fail hooks of " + obj.Name() + " do not run when it is called from another workflow (a failure is the whole case's: its own fail hooks run)"})
}
