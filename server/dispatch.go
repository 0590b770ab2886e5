// This file implements early dispatch: a queue task is offered to the
// workers as soon as the engine decides it, while the group commit that
// records the decision is still on its way to the disk, instead of
// after it. A case of ten queue tasks in a row otherwise waits for an
// fsync and a worker's round trip in series at every step; with early
// dispatch the worker runs the task during the fsync, and the commits
// of several steps can share one fsync.
//
// Nothing acknowledged can be lost by it, and nothing applied twice:
//   - the worker's completion is acknowledged only once the case's
//     events up to its outcome are durable (gate.Recorded waits for all
//     the case appended, the scheduling of the task included), so a
//     completion whose task's scheduling a crash loses was never
//     acknowledged; the worker's retry of it names a lease the restarted
//     server never gave, and is refused;
//   - the engine applies an outcome only after the events before it,
//     and the log keeps a case's records in order, so the outcome is
//     never in the log without the step that scheduled its task;
//   - on recovery the engine derives the lost step again and delivers
//     the task again with the same idempotency key, which workers must
//     honour anyway (a task is delivered at least once).
//
// The last point holds only for a step that the durable events and the
// outcomes of queue tasks determine. A step that followed from a start,
// a signal, a cancel, mail, a failure or the outcome of another kind of
// task (which need not give the same result twice) might not be derived
// again, or with other inputs under the same key: a task scheduled
// while such a record is not durable yet waits for it, as every task
// did before, and so do the tasks of programs with learned routes,
// whose policy may choose otherwise after a restart.

package server

import "github.com/knhk/knhk/runtime/engine"

// mark says how a record's step was decided, for early dispatch.
type mark uint8

const (
	// derived: the durable records before it determine it (a firing, a
	// timer, a snapshot).
	derived mark = iota
	// outside: something the engine does not derive again on recovery
	// decided it (a start, a signal, a cancel, mail, a failure).
	outside
	// outcome: a call's result. It is outside unless the engine says,
	// right after appending it, that a queue task's worker gave it
	// (eventLog.vouch): such a task is delivered again with its
	// idempotency key after a crash, and its worker gives the same
	// result.
	outcome
)

// markOf classifies ev for early dispatch.
func markOf(ev *engine.Event) mark {
	switch ev.Kind {
	case engine.EvFire, engine.EvArm, engine.EvTimer, engine.EvRetry, engine.EvFail, engine.EvHook:
		return derived
	case engine.EvDone:
		return outcome
	}
	return outside
}

// noteMarkLocked records the mark m of the record just added to pd (its
// index is pd.appended). The case's shard is locked.
func (pd *pending) noteMarkLocked(m mark) {
	switch m {
	case outside:
		pd.outsideUpto, pd.outcomeAt = pd.appended, 0
	case outcome:
		pd.outsideBefore, pd.outsideUpto, pd.outcomeAt = pd.outsideUpto, pd.appended, pd.appended
	}
}

// vouch tells the log that the outcome case caseID appended last is a
// queue task's, which a crash does not change (see outcome).
func (l *eventLog) vouch(caseID string) {
	sh := l.shard(caseID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	p := sh.m[caseID]
	if p == nil || p.pend == nil {
		return
	}
	if pd := p.pend; pd.outcomeAt != 0 && pd.outsideUpto == pd.outcomeAt {
		pd.outsideUpto, pd.outcomeAt = pd.outsideBefore, 0
	}
}

// derivable reports whether every record of case caseID that is not
// durable yet is one the engine derives again on recovery from those
// that are (and queue tasks' outcomes): then a task it scheduled may go
// to a worker before they are durable.
func (l *eventLog) derivable(caseID string) bool {
	sh := l.shard(caseID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	p := sh.m[caseID]
	if p == nil || p.pend == nil {
		return true
	}
	pd := p.pend
	return pd.err == nil && !pd.held && pd.durable >= pd.outsideUpto
}
