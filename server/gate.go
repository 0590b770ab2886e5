// This file implements the gate between the engine's calls and the
// world: a task is invoked, and a worker's completion acknowledged, only
// once the case's events before it are durable (see flush.go).

package server

import (
	"context"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/store"
)

// gate is the engine.Worker of every program: it waits for the case's
// log before each attempt, and passes the engine's record of an outcome
// on to the worker inside only once that record is durable.
type gate struct {
	w   engine.Worker
	log *eventLog
	// early lets a queue task go to its workers before the events that
	// scheduled it are durable, when the log can derive them again
	// (dispatch.go): false for programs with learned routes and with
	// Options.DispatchAfterDurable.
	early bool
}

var _ engine.Recorder = gate{}

// Invoke waits until the events that started the attempt are durable,
// then runs it: a task never runs for a step the log could lose. A
// queue task whose step the engine would derive again after a crash
// goes at once instead, while its events are on their way (dispatch.go):
// its worker's completion is acknowledged only once they are durable.
func (g gate) Invoke(ctx context.Context, inv engine.Invocation) (eval.Value, error) {
	if g.goesEarly(ctx, inv) {
		g.log.Flush(inv.CaseID)
		return g.w.Invoke(ctx, inv)
	}
	if err := g.log.sync(ctx, inv.CaseID); err != nil {
		return eval.Value{}, err
	}
	return g.w.Invoke(ctx, inv)
}

// goesEarly reports whether inv goes to its worker before the events
// that started it are durable (dispatch.go).
func (g gate) goesEarly(ctx context.Context, inv engine.Invocation) bool {
	return g.early && inv.Task != nil && inv.Task.Binding.Kind == ir.BindQueue && engine.WillRecord(ctx) &&
		g.Records(inv.Task) && g.log.derivable(inv.CaseID)
}

var _ engine.Starter = gate{}

// Start begins a call that goes early on the worker inside, when that
// is a Starter, without the engine's goroutine per call: the call
// waits for nothing here. Every other call is Invoked (it may wait for
// the log).
func (g gate) Start(ctx context.Context, inv engine.Invocation, done func(eval.Value, error)) (func(error), bool) {
	st, ok := g.w.(engine.Starter)
	if !ok || !g.goesEarly(ctx, inv) {
		return nil, false
	}
	g.log.Flush(inv.CaseID)
	return st.Start(ctx, inv, done)
}

// Records passes the question to the worker inside.
func (g gate) Records(t *ir.Task) bool {
	r, ok := g.w.(engine.Recorder)
	return ok && r.Records(t)
}

// Recorded tells the worker inside once the outcome is durable; the
// engine goes on meanwhile, so the outcome shares its fsync with the
// steps it enables.
func (g gate) Recorded(key string, err error) {
	r, ok := g.w.(engine.Recorder)
	if !ok {
		return
	}
	id, known := store.KeyCase(key)
	if err != nil || !known {
		r.Recorded(key, err)
		return
	}
	// The engine calls Recorded right after appending the outcome of a
	// task the worker Records, a queue task: its worker gives that
	// result again after a crash.
	g.log.vouch(id)
	g.log.afterDurable(id, func(err error) { r.Recorded(key, err) })
}
