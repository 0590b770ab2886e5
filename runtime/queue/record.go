// This file implements durable acknowledgement: a worker's Complete or
// Fail returns once the engine has written the outcome to its log.

package queue

import (
	"context"
	"fmt"
	"time"
)

// Recorded tells the broker that the engine wrote the outcome of task id
// to its log (err nil) or failed to (err). The worker's Complete or Fail
// that is waiting for it returns then (or CompleteThen's then is
// called, on this goroutine). Unknown IDs are ignored: the engine calls
// it for every outcome of a queue task, withdrawn ones too.
func (b *Broker) Recorded(id string, err error) {
	b.mu.Lock()
	e := b.unrec[id]
	delete(b.unrec, id)
	if e != nil && e.then != nil {
		b.records.remove(e)
	}
	b.mu.Unlock()
	switch {
	case e == nil:
	case e.then != nil:
		e.then(notRecorded(e, err))
	default:
		e.recorded <- err
	}
}

// awaitRecord registers e, just finished by a worker, as waiting for the
// engine's record: with then, then gets the word (or, after the
// broker's RecordWait, an error) and awaitRecord returns nil; without,
// the returned channel brings it. b.mu is held. It does nothing for a
// job that is not durable, and returns nil.
func (b *Broker) awaitRecord(e *entry, then func(error)) chan error {
	if !e.job.Durable {
		return nil
	}
	b.unrec[e.job.ID] = e
	if then == nil {
		e.recorded = make(chan error, 1)
		return e.recorded
	}
	e.then = then
	e.due = time.Now().Add(b.recordWait)
	b.records.add(e, b.recordsDue)
	return nil
}

// notRecorded is the error a worker gets for e's outcome given the
// engine's word err: nil when it was recorded.
func notRecorded(e *entry, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: task %q: %v", ErrNotRecorded, e.job.ID, err)
}

// waitRecord waits for the engine's record of e's outcome, at most the
// broker's RecordWait or until ctx ends. A record that does not come in
// time means the engine dropped the outcome (the attempt was withdrawn
// meanwhile) or is stuck: the worker is told that its outcome may not
// have been kept, and the engine retries the attempt if it was not.
func (b *Broker) waitRecord(ctx context.Context, e *entry, ch chan error) error {
	if ch == nil {
		return nil
	}
	t := time.NewTimer(b.recordWait)
	defer t.Stop()
	var err error
	select {
	case err = <-ch:
		if err == nil {
			return nil
		}
	case <-t.C:
		err = fmt.Errorf("no record after %s", b.recordWait)
	case <-ctx.Done():
		err = ctx.Err()
	}
	b.mu.Lock()
	delete(b.unrec, e.job.ID)
	b.mu.Unlock()
	return notRecorded(e, err)
}
