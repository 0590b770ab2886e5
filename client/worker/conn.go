// This file defines what the worker needs from the server: the four task
// calls of the API.

package worker

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrLeaseLost says that the worker no longer holds a task: its lease
// expired, the engine withdrew the attempt, or it was already finished.
// [Conn] implementations wrap it for those refusals, and a handler's
// context ends with it as the cause.
var ErrLeaseLost = errors.New("lease lost")

// Task is one delivery of a queue task.
type Task struct {
	// ID is the attempt's idempotency key: apply effects once per ID.
	ID      string
	Queue   string
	Task    string // the task's name in the program
	CaseID  string
	Attempt int
	// Input is the task's named arguments as one JSON object.
	Input json.RawMessage
	// LeaseToken proves the delivery to Heartbeat, Complete and Fail.
	LeaseToken string
	// LeaseDeadline is when the lease runs out unless extended.
	LeaseDeadline time.Time
	// Deadline is when the engine gives up on the attempt (the task's
	// timeout clause); zero means none.
	Deadline time.Time
}

// Conn is the worker's side of the task API. The knhk serve client
// implements it over Connect; [Local] implements it over a broker in the
// same process. Implementations wrap [ErrLeaseLost] when the server says
// the task is no longer held.
type Conn interface {
	// PollTask waits up to wait for a task of queue and leases it to
	// workerID; it returns nil and no error when none came in time.
	PollTask(ctx context.Context, queue, workerID string, wait time.Duration) (*Task, error)
	// Heartbeat extends the lease and returns its new deadline.
	Heartbeat(ctx context.Context, id, token string) (time.Time, error)
	// CompleteTask finishes the task with a JSON result of the task's
	// result type.
	CompleteTask(ctx context.Context, id, token string, result json.RawMessage) error
	// FailTask ends the attempt with message; the engine retries per
	// the task's clauses.
	FailTask(ctx context.Context, id, token, message string) error
}

// CompletePoller is an optional interface of a [Conn]: CompleteAndPoll
// completes a task as CompleteTask does and then waits up to wait for
// the next task of queue, in one round trip. A [Worker] whose Conn has
// it ends each successful task this way, so that in its steady state a
// task costs one call instead of two. An error means the completion was
// not confirmed, as for CompleteTask, and no task was leased.
type CompletePoller interface {
	CompleteAndPoll(ctx context.Context, id, token string, result json.RawMessage, queue, workerID string, wait time.Duration) (*Task, error)
}
