// This file implements the worker's side of a lease: heartbeat,
// completion, failure, and the expiry of a lease nobody extended.

package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// held returns the live entry id leased under token, or the error a
// worker that names it gets. b.mu is held.
func (b *Broker) held(id, token string) (*entry, error) {
	if id == "" || token == "" {
		return nil, fmt.Errorf("%w: a task ID and a lease token are needed", ErrBadRequest)
	}
	e := b.live[id]
	if e == nil {
		if how, ok := b.gone[id]; ok {
			return nil, how.err(id)
		}
		return nil, fmt.Errorf("%w %q", ErrUnknownTask, id)
	}
	if e.st != leased || e.token != token {
		return nil, fmt.Errorf("%w: task %q is not held under this lease token", ErrLeaseLost, id)
	}
	return e, nil
}

// Heartbeat extends the lease of task id by the broker's lease and
// returns the new lease deadline. A worker that gets [ErrLeaseLost] must
// stop: the attempt is over.
func (b *Broker) Heartbeat(ctx context.Context, id, token string) (time.Time, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, err := b.held(id, token)
	if err != nil {
		return time.Time{}, err
	}
	e.due = time.Now().Add(b.lease)
	b.leases.remove(e)
	b.leases.add(e, b.expireDue)
	return e.due, nil
}

// Complete finishes task id with result, a JSON value of the task's
// result type. A result that does not decode fails the attempt with the
// decoder's message and returns it wrapped in [ErrBadResult].
func (b *Broker) Complete(ctx context.Context, id, token string, result json.RawMessage) error {
	e, ch, err := b.complete(id, token, result, nil)
	if err != nil {
		return err
	}
	return b.waitRecord(ctx, e, ch)
}

// complete is Complete up to the wait for the engine's record: it
// returns the channel that brings it, or with then set (see
// CompleteThen) registers then for it.
func (b *Broker) complete(id, token string, result json.RawMessage, then func(error)) (*entry, chan error, error) {
	b.mu.Lock()
	e, err := b.held(id, token)
	b.mu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	// Decode outside the lock: a large result must not stall the queue.
	var val any = result
	var bad error
	if e.job.Decode != nil {
		val, bad = e.job.Decode(result)
	}
	b.mu.Lock()
	if e, err = b.held(id, token); err != nil {
		b.mu.Unlock()
		return nil, nil, err
	}
	q := b.queue(e.job.Queue)
	if bad != nil {
		q.counts.Failed++
		b.finish(q, e, nil, bad, endRefused)
		b.mu.Unlock()
		e.fire()
		return nil, nil, fmt.Errorf("%w: %v", ErrBadResult, bad)
	}
	q.counts.Completed++
	b.finish(q, e, val, nil, endCompleted)
	ch := b.awaitRecord(e, then)
	b.mu.Unlock()
	e.fire()
	return e, ch, nil
}

// Fail ends the attempt of task id with message; the engine retries per
// the task's retry clause.
func (b *Broker) Fail(ctx context.Context, id, token, message string) error {
	e, ch, err := b.fail(id, token, message, nil)
	if err != nil {
		return err
	}
	return b.waitRecord(ctx, e, ch)
}

// fail is Fail up to the wait for the engine's record, as complete is.
func (b *Broker) fail(id, token, message string, then func(error)) (*entry, chan error, error) {
	b.mu.Lock()
	e, err := b.held(id, token)
	if err != nil {
		b.mu.Unlock()
		return nil, nil, err
	}
	if message == "" {
		message = "no message"
	}
	q := b.queue(e.job.Queue)
	q.counts.Failed++
	b.finish(q, e, nil, &WorkerError{Worker: e.worker, Message: message}, endFailed)
	ch := b.awaitRecord(e, then)
	b.mu.Unlock()
	e.fire()
	return e, ch, nil
}

// WorkerError is the error of an attempt that a worker failed.
type WorkerError struct {
	Worker  string
	Message string
}

func (e *WorkerError) Error() string {
	if e.Worker == "" {
		return "worker failed it: " + e.Message
	}
	return fmt.Sprintf("worker %s failed it: %s", e.Worker, e.Message)
}
