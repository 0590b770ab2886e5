// This file implements the life of one task: heartbeats while the
// handler runs, then completion or failure.

package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// finalTimeout bounds the Complete or Fail call that ends a task.
const finalTimeout = 10 * time.Second

// handle runs the handler for t and reports its outcome, and goes on
// with the next task when the completion brought one (CompletePoller).
// run is Run's context; base ends only when a shutdown's drain time is
// up.
func (w *Worker) handle(run, base context.Context, t *Task) {
	for t != nil {
		t = w.handleOne(run, base, t)
	}
}

// report is the outcome of a handler: a result to complete the task
// with, or the message to fail it with.
type report struct {
	w       *Worker
	t       *Task
	result  json.RawMessage
	failed  bool
	failure string
}

// log is the logger of r's task, made for a message: most tasks have
// none, and a logger made (or a closure kept) for each was a good part
// of what a worker allocated per task.
func (r report) log() *slog.Logger { return r.w.taskLog(r.t) }

// taskLog is the logger of task t.
func (w *Worker) taskLog(t *Task) *slog.Logger {
	return w.o.Log.With("task", t.Task, "id", t.ID, "attempt", t.Attempt)
}

// execute runs the handler for t with heartbeats and returns its
// outcome; ok is false when there is nothing to report (the lease was
// lost).
func (w *Worker) execute(base context.Context, t *Task) (r report, ok bool) {
	r = report{w: w, t: t}
	ctx, cancel := context.WithCancelCause(base)
	defer cancel(nil)
	if !t.Deadline.IsZero() {
		var c context.CancelFunc
		ctx, c = context.WithDeadline(ctx, t.Deadline)
		defer c()
	}
	b := w.heartbeat(ctx, cancel, t)
	res, err := w.call(ctx, t)
	b.stop()
	if cause := context.Cause(ctx); errors.Is(cause, ErrLeaseLost) {
		r.log().Warn("lease lost; the engine retries the attempt, this result is dropped", "err", cause)
		return r, false
	}
	if err != nil {
		if c := context.Cause(ctx); errors.Is(c, errShutdown) {
			err = fmt.Errorf("%w: %w", errShutdown, err)
		}
		r.failed, r.failure = true, err.Error()
		return r, true
	}
	switch v := res.(type) {
	case json.RawMessage:
		r.result = v
	default:
		if r.result, err = json.Marshal(res); err != nil {
			r.failed, r.failure = true, fmt.Sprintf("the result does not encode as JSON: %v", err)
		}
	}
	return r, true
}

// outcome is r as the batched and streamed calls carry it.
func (r report) outcome() Outcome {
	return Outcome{ID: r.t.ID, LeaseToken: r.t.LeaseToken, Result: r.result, Failed: r.failed, Failure: r.failure}
}

// executeTo runs t (execute) and sends its outcome to out: the zero
// report when there is nothing to report.
func (w *Worker) executeTo(base context.Context, t *Task, out chan<- report) {
	r, ok := w.execute(base, t)
	if !ok {
		r = report{}
	}
	out <- r
}

// nextBackoff is the wait after a failed call, backoff the last one:
// doubled, from 100 ms up to 5 s.
func nextBackoff(backoff time.Duration) time.Duration {
	return min(max(2*backoff, 100*time.Millisecond), 5*time.Second)
}

// send reports r with the plain calls, retrying (see finish).
func (w *Worker) send(base context.Context, r report) {
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(base), finalTimeout)
	defer fcancel()
	t := r.t
	if r.failed {
		w.finish(r.log, "fail", func() error { return w.conn.FailTask(fctx, t.ID, t.LeaseToken, r.failure) })
		return
	}
	w.finish(r.log, "complete", func() error { return w.conn.CompleteTask(fctx, t.ID, t.LeaseToken, r.result) })
}

// handleOne runs the handler for t and reports its outcome; it returns
// the next task when the completion polled one.
func (w *Worker) handleOne(run, base context.Context, t *Task) *Task {
	r, ok := w.execute(base, t)
	if !ok {
		return nil
	}
	if cp, ok := w.conn.(CompletePoller); ok && !r.failed && run.Err() == nil {
		next, err := w.completeAndPoll(run, base, cp, t, r.result)
		switch {
		case err == nil:
			return next
		case errors.Is(err, ErrLeaseLost):
			r.log().Warn("complete refused: the worker no longer holds the task", "err", err)
			return nil
		}
		// Not confirmed: the plain call retries it (and is refused if
		// the completion got through after all).
	}
	w.send(base, r)
	return nil
}

// completeAndPoll completes t with out and polls the next task in one
// call. A shutdown (run ending) cancels the poll.
func (w *Worker) completeAndPoll(run, base context.Context, cp CompletePoller, t *Task, out json.RawMessage) (*Task, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(base), w.o.PollWait+finalTimeout)
	defer cancel()
	stop := context.AfterFunc(run, cancel)
	defer stop()
	return cp.CompleteAndPoll(ctx, t.ID, t.LeaseToken, out, w.o.Queue, w.o.ID, w.o.PollWait)
}

// call runs the handler, turning a panic into an error.
func (w *Worker) call(ctx context.Context, t *Task) (res any, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return w.h(ctx, t)
}

// finish makes the call that ends a task, retrying a failure that is not
// a refusal until finalTimeout: a refused one (the lease was lost) or a
// rejected result is logged, and the engine's retry takes over.
func (w *Worker) finish(log func() *slog.Logger, what string, f func() error) {
	deadline := time.Now().Add(finalTimeout)
	wait := 50 * time.Millisecond
	for {
		err := f()
		switch {
		case err == nil:
			return
		case errors.Is(err, ErrLeaseLost):
			log().Warn(what+" refused: the worker no longer holds the task", "err", err)
			return
		case time.Now().Add(wait).After(deadline):
			log().Error(what+" failed", "err", err)
			return
		}
		log().Warn(what+" failed; retrying", "err", err)
		time.Sleep(wait)
		wait = min(2*wait, time.Second)
	}
}

// heartbeat extends t's lease until the returned beats are stopped. A
// refusal cancels ctx with ErrLeaseLost; so does a lease deadline passed
// while heartbeats failed for other reasons (the server unreachable).
// The beats run on a timer, not a goroutine of their own: most tasks end
// before their first beat, and a goroutine and a ticker per task were a
// good part of what a worker spent on each; their state is one object
// (beats), not closures over it.
func (w *Worker) heartbeat(ctx context.Context, cancel context.CancelCauseFunc, t *Task) *beats {
	every := w.o.Heartbeat
	if every <= 0 {
		every = 10 * time.Second
		if !t.LeaseDeadline.IsZero() {
			every = max(time.Until(t.LeaseDeadline)/3, 10*time.Millisecond)
		}
	}
	b := &beats{w: w, ctx: ctx, cancel: cancel, t: t, every: every, lease: t.LeaseDeadline}
	b.mu.Lock()
	b.timer = time.AfterFunc(every, b.beat)
	b.mu.Unlock()
	return b
}

// beats are the heartbeats of one running task.
type beats struct {
	w      *Worker
	ctx    context.Context
	cancel context.CancelCauseFunc
	t      *Task
	every  time.Duration
	lease  time.Time // only beats touch it, one at a time

	mu       sync.Mutex
	stopped  bool
	timer    *time.Timer
	inflight sync.WaitGroup
}

// beat extends the lease once and arms the next beat.
func (b *beats) beat() {
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		return
	}
	b.inflight.Add(1)
	b.mu.Unlock()
	defer b.inflight.Done()
	if b.ctx.Err() != nil {
		return
	}
	hctx, hcancel := context.WithTimeout(b.ctx, b.every)
	d, err := b.w.conn.Heartbeat(hctx, b.t.ID, b.t.LeaseToken)
	hcancel()
	switch {
	case err == nil:
		b.lease = d
	case errors.Is(err, ErrLeaseLost):
		b.cancel(err)
		return
	case !b.lease.IsZero() && time.Now().After(b.lease):
		b.cancel(fmt.Errorf("%w: no heartbeat got through before the lease ran out: %v", ErrLeaseLost, err))
		return
	default:
		b.w.taskLog(b.t).Warn("heartbeat failed; retrying", "err", err)
	}
	b.mu.Lock()
	if !b.stopped {
		b.timer.Reset(b.every) // the next beat once this one is done
	}
	b.mu.Unlock()
}

// stop ends the beats and waits for one under way.
func (b *beats) stop() {
	b.mu.Lock()
	b.stopped = true
	b.timer.Stop()
	b.mu.Unlock()
	b.inflight.Wait()
}
