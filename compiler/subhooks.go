// This file warns about hooks that will not run: the engine runs the
// hooks of the workflow a case was started from, not those of a workflow
// it calls.

package compiler

import (
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// declaresHooks reports whether workflow obj declares a hook.
func declaresHooks(obj check.Object) bool {
	d, ok := obj.Decl().(*syntax.WorkflowDecl)
	if !ok || d == nil || d.Body == nil {
		return false
	}
	found := false
	syntax.Inspect(d.Body, func(n any) bool {
		if _, ok := n.(*syntax.HookStmt); ok {
			found = true
		}
		return !found
	})
	return found
}

// warnSubHooks warns, at a call of workflow obj from another workflow,
// that obj's hooks do not run for that call.
func (w *wf) warnSubHooks(obj check.Object, sp source.Span) {
	if !declaresHooks(obj) {
		return
	}
	w.l.diags = append(w.l.diags, &source.Diagnostic{Severity: source.Warning, Code: source.NotImplemented, File: w.file, Span: sp,
		Message: "the hooks of " + obj.Name() + " do not run when it is called from another workflow, only in a case started from " + obj.Name()})
}
