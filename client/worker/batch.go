// This file implements the batched worker loop: with a [Batcher] Conn
// and Options.Batch a worker with N slots reports every finished task
// and asks for as many new ones as it has free slots in one call,
// instead of one or two calls per task. Over HTTP a call costs the server more than the engine's
// work for a small task, so this is where a busy worker's time goes.

package worker

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"
)

// Outcome ends one held task in a [Batcher] call: Result completes it
// (JSON of the task's result type) unless Failed, which fails the
// attempt with Failure.
type Outcome struct {
	ID, LeaseToken string
	Result         json.RawMessage
	Failed         bool
	Failure        string
}

// Batcher is an optional interface of a [Conn]. CompleteAndPollTasks
// applies done, each on its own, then leases up to max tasks of queue,
// waiting up to wait (0: not at all) for the first. errs is aligned with
// done: nil for an applied outcome, an error wrapping [ErrLeaseLost] for
// a task no longer held, another error for one not confirmed. An error
// of the call means none of done is confirmed and no task was leased;
// one wrapping [errors.ErrUnsupported] says that the server lacks the
// call, and a [Worker] goes back to one call per task.
type Batcher interface {
	CompleteAndPollTasks(ctx context.Context, queue, workerID string, done []Outcome, max int, wait time.Duration) (tasks []*Task, errs []error, err error)
}

// lingerFor is how long a worker whose free slots found the queue empty
// waits for a running task to end before it polls for them on its own:
// with no-op handlers, polling at once cost two calls per task (a poll
// waiting, and the call reporting the outcome) instead of one.
const lingerFor = 5 * time.Millisecond

// errUnbatched ends runBatched when the server lacks the batched call.
var errUnbatched = errors.New("the server does not batch task calls")

// batchResult is the answer of one batched call.
type batchResult struct {
	long  bool
	sent  []report
	asked int
	tasks []*Task
	errs  []error
	err   error
}

// runBatched is Run's loop over b. At most two calls are in flight: a
// long one that waits for tasks when slots are free, and a quick one
// that reports the outcomes finished meanwhile (and takes tasks already
// pending) without waiting, so that no completion waits for a poll.
func (w *Worker) runBatched(ctx, base context.Context, abort context.CancelCauseFunc, b Batcher, wg *sync.WaitGroup) error {
	n := w.o.Concurrency
	outcomes := make(chan report, n) // at most n handlers: never blocks
	results := make(chan batchResult, 2)
	var (
		running, reserved   int
		outbox              []report
		longBusy, quickBusy bool
		backoff             time.Duration
		retry               <-chan time.Time
		unbatched           bool
		stop                = ctx.Done()
		linger              <-chan time.Time
		lingered            bool
	)
	start := func(long bool, max int, wait time.Duration) {
		sent := outbox
		outbox = nil
		reserved += max
		if long {
			longBusy = true
		} else {
			quickBusy = true
		}
		done := make([]Outcome, len(sent))
		for i, r := range sent {
			done[i] = r.outcome()
		}
		go func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(base), wait+finalTimeout)
			defer cancel()
			if long {
				// A shutdown ends the wait for tasks.
				defer context.AfterFunc(ctx, cancel)()
			}
			tasks, errs, err := b.CompleteAndPollTasks(cctx, w.o.Queue, w.o.ID, done, max, wait)
			results <- batchResult{long: long, sent: sent, asked: max, tasks: tasks, errs: errs, err: err}
		}()
	}
	// plain reports sent outcomes with the per-task calls: after a
	// failed batch (refused if applied after all) or when unbatched.
	plain := func(rs ...report) {
		for _, r := range rs {
			wg.Go(func() { w.send(base, r) })
		}
	}
	for {
		stopping := ctx.Err() != nil
		free := n - running - reserved
		idle := !longBusy && !stopping && free > 0 && retry == nil && !unbatched
		switch {
		case unbatched:
			plain(outbox...)
			outbox = nil
		case idle && (running == 0 || len(outbox) > 0 || lingered):
			lingered, linger = false, nil
			start(true, free, w.o.PollWait)
		case idle && linger == nil:
			// Handlers run and the queue was empty: one of them is
			// likely to end soon, and its outcome and the poll then go
			// in one call; wait for a new task only if none ends.
			linger = time.After(lingerFor)
		}
		if !quickBusy && len(outbox) > 0 && !unbatched {
			free = n - running - reserved
			if stopping {
				free = 0
			}
			start(false, free, 0)
		}
		if (stopping || unbatched) && running == 0 && !longBusy && !quickBusy && len(outbox) == 0 {
			if unbatched && !stopping {
				return errUnbatched
			}
			return nil
		}
		select {
		case r := <-outcomes:
			running--
			if r.t != nil {
				outbox = append(outbox, r)
			}
		case <-retry:
			retry = nil
		case <-linger:
			linger, lingered = nil, true
		case <-stop:
			stop = nil
			if w.o.DrainTimeout > 0 {
				t := time.AfterFunc(w.o.DrainTimeout, func() { abort(errShutdown) })
				defer t.Stop()
			}
		case res := <-results:
			reserved -= res.asked
			if res.long {
				longBusy = false
			} else {
				quickBusy = false
			}
			switch {
			case errors.Is(res.err, errors.ErrUnsupported):
				w.o.Log.Info("the server lacks CompleteAndPollTasks; one call per task", "err", res.err)
				unbatched = true
				plain(res.sent...)
			case res.err != nil:
				plain(res.sent...)
				if ctx.Err() == nil {
					backoff = nextBackoff(backoff)
					w.o.Log.Warn("batched call failed; retrying", "err", res.err, "in", backoff)
					retry = time.After(backoff)
				}
			default:
				backoff = 0
				for i, err := range res.errs {
					switch {
					case err == nil:
					case errors.Is(err, ErrLeaseLost):
						res.sent[i].log().Warn("complete refused: the worker no longer holds the task", "err", err)
					default:
						plain(res.sent[i])
					}
				}
			}
			for _, t := range res.tasks {
				running++
				go w.executeTo(base, t, outcomes)
			}
		}
	}
}
