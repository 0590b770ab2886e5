// This file implements Local: a Conn over a broker in the same process,
// for embedding programs and tests.

package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/knhk/knhk/runtime/queue"
)

// Local returns a [Conn] over b, a broker in the same process (the one
// an embedded server hands to its engine).
func Local(b *queue.Broker) Conn { return local{b} }

type local struct{ b *queue.Broker }

func (l local) PollTask(ctx context.Context, q, workerID string, wait time.Duration) (*Task, error) {
	if wait > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, wait)
		defer cancel()
	}
	t, err := l.b.Poll(ctx, q, workerID)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &Task{ID: t.ID, Queue: t.Queue, Task: t.Task, CaseID: t.CaseID, Attempt: t.Attempt,
		Input: t.Input, LeaseToken: t.Token, LeaseDeadline: t.LeaseDeadline, Deadline: t.Deadline}, nil
}

func (l local) Heartbeat(ctx context.Context, id, token string) (time.Time, error) {
	d, err := l.b.Heartbeat(ctx, id, token)
	return d, lost(err)
}

func (l local) CompleteTask(ctx context.Context, id, token string, result json.RawMessage) error {
	return lost(l.b.Complete(ctx, id, token, result))
}

func (l local) FailTask(ctx context.Context, id, token, message string) error {
	return lost(l.b.Fail(ctx, id, token, message))
}

// lost wraps ErrLeaseLost around the broker's refusals of a task the
// worker no longer holds.
func lost(err error) error {
	if errors.Is(err, queue.ErrLeaseLost) || errors.Is(err, queue.ErrFinished) || errors.Is(err, queue.ErrUnknownTask) {
		return fmt.Errorf("%w: %w", ErrLeaseLost, err)
	}
	return err
}
