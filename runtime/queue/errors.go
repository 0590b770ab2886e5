// This file defines the errors of the broker, each testable with
// errors.Is.

package queue

import (
	"errors"
	"fmt"
)

var (
	// ErrUnknownTask is returned to a worker that names a task the broker
	// never had or no longer remembers.
	ErrUnknownTask = errors.New("unknown task")
	// ErrLeaseLost is returned to a worker that no longer holds the task:
	// its lease expired, the attempt was withdrawn, or the token is stale.
	ErrLeaseLost = errors.New("lease lost")
	// ErrFinished is returned to a worker that completes or fails a task
	// that was already completed or failed.
	ErrFinished = errors.New("task already finished")
	// ErrBadResult is returned to a worker whose result does not have the
	// task's result type; the attempt fails with the same message.
	ErrBadResult = errors.New("bad result")
	// ErrLeaseExpired ends an attempt whose lease ran out without a
	// heartbeat; the engine counts it as a failed attempt.
	ErrLeaseExpired = errors.New("lease expired")
	// ErrClosed is returned by a broker after [Broker.Close].
	ErrClosed = errors.New("queue broker closed")
	// ErrNotRecorded is returned to a worker whose completion or failure
	// was accepted but not confirmed written to the engine's log in time;
	// it may or may not have been kept, and if not, the attempt is
	// delivered again with the same ID.
	ErrNotRecorded = errors.New("outcome not recorded")
	// ErrBadRequest is returned for a call with a missing queue name,
	// task ID or lease token.
	ErrBadRequest = errors.New("bad request")
)

// ending is how a finished task ended, kept (one byte a task) so that a
// late worker call gets a clear error.
type ending uint8

const (
	endCompleted ending = iota
	endFailed
	endRefused // completed with a result of the wrong type
	endExpired
	endWithdrawn
)

// err is the error a worker call naming task id gets once it ended so.
func (h ending) err(id string) error {
	switch h {
	case endCompleted:
		return fmt.Errorf("%w: task %q was already completed", ErrFinished, id)
	case endFailed:
		return fmt.Errorf("%w: task %q was already failed", ErrFinished, id)
	case endRefused:
		return fmt.Errorf("%w: task %q was already failed: its result was refused", ErrFinished, id)
	case endExpired:
		return fmt.Errorf("%w: the lease of task %q expired", ErrLeaseLost, id)
	default:
		return fmt.Errorf("%w: the engine withdrew task %q (its timeout, or the case ended)", ErrLeaseLost, id)
	}
}
