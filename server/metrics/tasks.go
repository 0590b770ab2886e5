// This file implements the timing of task attempts: an engine.Worker
// that wraps the real one.

package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

// Worker returns an engine.Worker that runs every invocation on w and
// records its duration in knhk_task_duration_seconds, labelled with the
// task (or kernel), the queue of a queue task ("" for other bindings)
// and the outcome: ok, error, or cancelled when the attempt's context
// ended first (a timeout, a cancel, a drain).
func (m *Metrics) Worker(w engine.Worker) engine.Worker {
	return &timedWorker{w: w, m: m}
}

type timedWorker struct {
	w engine.Worker
	m *Metrics
}

// Records and Recorded pass the engine's reports of logged outcomes
// through to the wrapped worker (engine.Recorder): queue tasks need them
// to acknowledge a worker's completion only once it is durable.
func (t *timedWorker) Records(task *ir.Task) bool {
	r, ok := t.w.(engine.Recorder)
	return ok && r.Records(task)
}

func (t *timedWorker) Recorded(key string, err error) {
	if r, ok := t.w.(engine.Recorder); ok {
		r.Recorded(key, err)
	}
}

func (t *timedWorker) Invoke(ctx context.Context, inv engine.Invocation) (eval.Value, error) {
	start := time.Now()
	v, err := t.w.Invoke(ctx, inv)
	t.observe(ctx, inv, time.Since(start), err)
	return v, err
}

// Start times a call that the wrapped worker starts without the
// engine's goroutine (engine.Starter) from its start to its outcome.
func (t *timedWorker) Start(ctx context.Context, inv engine.Invocation, done func(eval.Value, error)) (func(error), bool) {
	st, ok := t.w.(engine.Starter)
	if !ok {
		return nil, false
	}
	start := time.Now()
	return st.Start(ctx, inv, func(v eval.Value, err error) {
		t.observe(ctx, inv, time.Since(start), err)
		done(v, err)
	})
}

// observe records attempt inv that took d and ended with err under ctx.
func (t *timedWorker) observe(ctx context.Context, inv engine.Invocation, d time.Duration, err error) {
	var task, queue string
	switch {
	case inv.Task != nil:
		task = inv.Task.Name
		if inv.Task.Binding.Kind == ir.BindQueue {
			queue = inv.Task.Binding.Target
		}
	case inv.Kernel != nil:
		task = inv.Kernel.Name
	}
	outcome := "ok"
	switch {
	case err != nil && (ctx.Err() != nil || errors.Is(err, context.Canceled)):
		// A started call is withdrawn without its context ending.
		outcome = "cancelled"
	case err != nil:
		outcome = "error"
	}
	t.m.taskDur.WithLabelValues(task, queue, outcome).Observe(d.Seconds())
}
