// This file implements queue tasks: work that external worker processes
// poll from a named queue of a [queue.Broker].

package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/queue"
)

// Broker hands queue tasks to external workers and waits for their
// results; *queue.Broker implements it. Submit returns what the job's
// Decode returned for the accepted result.
type Broker interface {
	Submit(ctx context.Context, j queue.Job) (any, error)
}

// recorder is a [Broker] that acknowledges a worker's completion only
// once the engine has written the outcome (queue.Job.Durable).
type recorder interface {
	Recorded(id string, err error)
}

var _ engine.Recorder = (*Worker)(nil)

// Records reports whether the engine must tell the worker when an
// outcome of t is in its log: for queue tasks whose broker waits for it.
func (w *Worker) Records(t *ir.Task) bool {
	_, ok := w.o.Queue.(recorder)
	return ok && t != nil && t.Binding.Kind == ir.BindQueue
}

// Recorded passes the engine's word on an outcome to the broker.
func (w *Worker) Recorded(key string, err error) {
	if r, ok := w.o.Queue.(recorder); ok {
		r.Recorded(key, err)
	}
}

// queue submits one attempt of a queue task and waits for a worker to
// finish it. The result is decoded and type-checked exactly as an exec
// task's standard output, so a mistyped result fails the attempt with the
// same message (and the worker that sent it is told so). An expired
// lease, a worker's failure or the attempt's timeout is an error, and the
// engine retries per the task's clauses.
func (w *Worker) queue(ctx context.Context, c *call) (eval.Value, error) {
	j, err := w.job(ctx, c)
	if err != nil {
		return eval.Value{}, err
	}
	v, err := w.o.Queue.Submit(ctx, j)
	return queued(c, v, err)
}

// thenSubmitter is a [Broker] that can submit without a goroutine
// waiting (*queue.Broker's SubmitThen).
type thenSubmitter interface {
	SubmitThen(j queue.Job, then func(any, error)) (withdraw func(error))
}

var _ engine.Starter = (*Worker)(nil)

// Start begins a queue task's attempt on a broker that can submit
// without waiting (the engine then parks no goroutine per call), and
// reports false for every other call, which the engine Invokes.
func (w *Worker) Start(ctx context.Context, inv engine.Invocation, done func(eval.Value, error)) (func(error), bool) {
	t := inv.Task
	ts, ok := w.o.Queue.(thenSubmitter)
	if !ok || inv.Kernel != nil || t == nil || t.Binding.Kind != ir.BindQueue {
		return nil, false
	}
	c, err := newCall(inv, t)
	if err != nil {
		done(eval.Value{}, err)
		return func(error) {}, true
	}
	j, err := w.job(ctx, c)
	if err != nil {
		done(w.outcome(ctx, t, eval.Value{}, err))
		return func(error) {}, true
	}
	return ts.SubmitThen(j, func(v any, err error) {
		r, err := queued(c, v, err)
		done(w.outcome(ctx, t, r, err))
	}), true
}

// job is the broker's job for one attempt of queue task c.
func (w *Worker) job(ctx context.Context, c *call) (queue.Job, error) {
	name := c.task.Binding.Target
	if w.o.Queue == nil {
		return queue.Job{}, fmt.Errorf("task %s runs on queue %q, which only `knhk serve` provides: serve the program and start a worker that polls %q (see docs/workers.md)",
			c.task.Name, name, name)
	}
	in, err := w.argsJSON(c)
	if err != nil {
		return queue.Job{}, fmt.Errorf("task %s: %w", c.task.Name, err)
	}
	j := queue.Job{ID: c.inv.IdempotencyKey, Queue: name, Task: c.task.Name, CaseID: c.inv.CaseID,
		Attempt: c.inv.Attempt, Input: in,
		Decode: func(r json.RawMessage) (any, error) {
			v, err := w.result(c, r)
			if err != nil {
				return nil, badResult{err}
			}
			return v, nil
		}}
	if d, ok := ctx.Deadline(); ok {
		j.Deadline = d
	}
	_, rec := w.o.Queue.(recorder)
	j.Durable = rec && engine.WillRecord(ctx)
	return j, nil
}

// queued is the outcome of queue task c's attempt from what the broker
// returned.
func queued(c *call, v any, err error) (eval.Value, error) {
	name := c.task.Binding.Target
	var bad badResult
	if errors.As(err, &bad) {
		return eval.Value{}, bad.err // word for word an exec task's error
	}
	if err != nil {
		return eval.Value{}, fmt.Errorf("task %s on queue %q: %w", c.task.Name, name, err)
	}
	ev, ok := v.(eval.Value)
	if !ok {
		return eval.Value{}, fmt.Errorf("task %s on queue %q: the broker returned %T, not the decoded result", c.task.Name, name, v)
	}
	return ev, nil
}

// badResult marks the decoder's error on its way through the broker, so
// that the attempt fails with exactly the message an exec task gets.
type badResult struct{ err error }

func (b badResult) Error() string { return b.err.Error() }
func (b badResult) Unwrap() error { return b.err }
