// This file implements the interfaces the engine drives: expression
// evaluation, task workers, the clock and the event log.

package engine

import (
	"context"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// VarReader reads the case variables of the net a function is scoped to.
type VarReader interface {
	Var(i int32) eval.Value
}

// Env is what an [ir.Func] is evaluated against: its arguments and the
// variables of the frame it runs in.
type Env struct {
	Prog *ir.Program
	Vars VarReader
	Args []eval.Value
}

// Evaluator evaluates expression functions: guards, call arguments,
// durations, items and limits, assigned and returned values. It must be
// pure; the engine records its results in events, so it is never called
// during replay. runtime/eval provides the real one.
type Evaluator interface {
	Eval(ctx context.Context, fn *ir.Func, env Env) (eval.Value, error)
}

// Invocation is one attempt of a task or kernel call, or of a
// compensation.
type Invocation struct {
	CaseID     string
	Transition string // the transition's name; "undo" for a compensation, "hook NAME" for a hook's action
	Attempt    int    // from 1
	// IdempotencyKey is the same for every delivery of this attempt,
	// including a re-invocation after recovery: workers must apply its
	// effect once.
	IdempotencyKey string
	Task           *ir.Task   // nil for a kernel
	Kernel         *ir.Kernel // nil for a task
	Args           []eval.Value
	Compensation   bool
}

// Worker runs task and kernel calls. An error fails the attempt; the
// engine retries per the call's clauses. The context carries the
// attempt's timeout.
type Worker interface {
	Invoke(ctx context.Context, inv Invocation) (eval.Value, error)
}

// Starter is an optional interface of a [Worker] for calls that wait on
// someone else (a queue task waits for an external worker): Start
// begins inv and returns true and a stop function, and later calls done
// once with what Invoke would have returned, so that no goroutine of
// the engine is parked for the call. stop(err) ends the call early
// (withdrawn: a join or a cancel dropped it, its timeout passed, the
// run ended), done then getting err unless the call had ended already;
// the engine calls it instead of ending ctx, which carries the
// attempt's values and deadline only. Start returns false, having done
// nothing, for a call it does not start so; the engine then runs
// Invoke on a goroutine, as for a worker that is not a Starter. done
// must be quick and may be called on any goroutine, before Start
// returns included.
type Starter interface {
	Start(ctx context.Context, inv Invocation, done func(eval.Value, error)) (stop func(error), ok bool)
}

// Recorder is an optional interface of a [Worker]: for the calls of the
// tasks it Records, the engine calls Recorded with the attempt's
// idempotency key once the attempt's outcome is in the log (err nil) or
// could not be written (err). A worker whose own caller must not hear
// "done" before the outcome is durable (an external queue worker told
// its completion was accepted) waits for it.
type Recorder interface {
	Records(t *ir.Task) bool
	Recorded(key string, err error)
}

// recordsKey marks the context of an attempt run by an engine whose
// worker is a [Recorder].
type recordsKey struct{}

// WillRecord reports whether the engine that passed ctx to Invoke sees
// its worker as a [Recorder], and so will call Recorded for the outcome
// of a task the worker Records. A worker that wraps another must pass
// Records and Recorded through; where one does not, the worker inside
// learns it here rather than waiting for a call that never comes.
func WillRecord(ctx context.Context) bool { return ctx.Value(recordsKey{}) != nil }

// Policy picks the candidate of a learned route from its features. The
// engine records the choice in the event, so replay never asks again.
// Without one the engine takes the first candidate.
type Policy interface {
	Choose(ctx context.Context, route string, features []eval.Value, candidates int) (int, error)
}

// Clock says what time it is. Tests use a fake one; events record what it
// said, so replay never reads it.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// EventLog stores the events of every case in order. Append must be
// durable when it returns (unless the log is a [Flusher], which then
// keeps that promise towards everyone outside the engine): the engine
// applies an event only after its Append succeeded, so after a crash the
// log holds every applied event.
// Append must not retain ev itself (the engine reuses it); it may keep
// its Values, which are never mutated.
type EventLog interface {
	Append(ctx context.Context, caseID string, ev *Event) error
	// Replay calls fn with the events of caseID in append order.
	Replay(ctx context.Context, caseID string, fn func(*Event) error) error
}
