// This file implements the report of a failed case: its message and the
// source position the engine recorded for the failure.

package main

import (
	"fmt"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/runtime/engine"
)

// reportFailure prints why case s failed, at the position in s.ErrorLoc
// (the fail statement, the call whose last attempt failed, or the
// expression whose evaluation failed) when c has that file's source.
func reportFailure(e *env, c *compiled, s *engine.State) {
	d := &source.Diagnostic{Severity: source.Error, Message: fmt.Sprintf("case %s failed: %s", s.ID, s.Error)}
	if loc := s.ErrorLoc; loc.Known() {
		if f := c.files[loc.File]; f != nil {
			d.File, d.Span = f, loc.Span
		}
	}
	printDiagnostics(e, source.Diagnostics{d})
	for _, ce := range s.CompErrors {
		fmt.Fprintf(e.stderr, "knhk: a compensation failed too: %s\n", ce)
	}
	if s.Status == engine.CompFailed {
		fmt.Fprintf(e.stderr, "knhk: case %s is compensation-failed: compensation %s failed its last attempt; fix its cause, then knhk resume %s tries it again\n",
			s.ID, failedComp(c, s), s.ID)
	}
}

// failedComp names the task of the compensation that failed for good in
// case s.
func failedComp(c *compiled, s *engine.State) string {
	if len(s.Comp) == 0 {
		return "?"
	}
	u := s.Comp[len(s.Comp)-1].Call
	if u != nil && u.Kind == ir.CallTask && int(u.Target) < len(c.prog.Tasks) && u.Target >= 0 {
		return c.prog.Tasks[u.Target].Name
	}
	return "?"
}
