// This file implements compensations that fail for good: the saga stops
// at the failed one, the case shows CompFailed naming its task, and
// [Engine.RetryCompensation] (knhk resume) tries it again and goes on.

package engine

import (
	"context"
	"fmt"

	"github.com/knhk/knhk/compiler/ir"
)

// compFailed records that compensation v failed its last attempt (it
// retried per its task's retry and backoff clauses first). The undo goes
// back on top of the stack, so that the saga resumes with it and undoes
// in reverse order still, and the case waits in CompFailed for someone to
// fix what failed. CompErrors keeps the message, naming the task.
func (m *Machine) compFailed(s *State, v *Inv, msg string) {
	s.CompErrors = append(s.CompErrors, m.callName(v.Call)+": "+msg)
	s.Comp = append(s.Comp, Undo{Call: v.Call, Args: v.Args})
	s.Status = CompFailed
}

// retryComp applies EvCompRetry: the failed compensation starts again
// with all its attempts.
func (m *Machine) retryComp(s *State) error {
	if s.Status != CompFailed {
		return notApplicable("retry of the compensation of a %s case", s.Status)
	}
	s.Status = Failing
	m.nextComp(s)
	return nil
}

// callName names the task or workflow that call c invokes.
func (m *Machine) callName(c *ir.Call) string {
	if t := m.task(c); t != nil {
		return t.Name
	}
	if c != nil && c.Kind == ir.CallWorkflow && c.Target >= 0 && int(c.Target) < len(m.Prog.Nets) {
		return m.Prog.Nets[c.Target].Name
	}
	return "compensation"
}

// RetryCompensation tries the failed compensation of case id again, a
// case in CompFailed, and runs the rest of its compensations; the case
// ends Failed (or Cancelled) when they succeed, or is CompFailed again.
func (e *Engine) RetryCompensation(ctx context.Context, id string) error {
	cr, err := e.lookup(id)
	if err != nil {
		return err
	}
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if cr.s.Status != CompFailed {
		return fmt.Errorf("case %s is %s, not waiting for a compensation to be retried", id, cr.s.Status)
	}
	if err := e.commit(ctx, cr, &Event{Kind: EvCompRetry, Time: e.now()}); err != nil {
		return err
	}
	if cr.poke() {
		return nil
	}
	return e.run(ctx, cr)
}
