// This file implements Remote: a Conn over the knhk serve API.

package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
)

// Remote returns a [Conn] over the API of knhk serve, such as
// client.New(url, client.WithToken(t)).API(). The streaming workers of
// one Remote that take tasks of the same queue share a WorkTasks stream
// (up to 256 slots on one); workers given a Remote each have a stream
// of their own.
func Remote(api knhkv1connect.KnhkServiceClient) Conn {
	return remote{api: api, share: newSharer(rawStreams{api})}
}

type remote struct {
	api   knhkv1connect.KnhkServiceClient
	share *sharer
}

func (r remote) PollTask(ctx context.Context, queue, workerID string, wait time.Duration) (*Task, error) {
	res, err := r.api.PollTask(ctx, connect.NewRequest(&knhkv1.PollTaskRequest{
		Queue: queue, Worker: workerID, TimeoutMs: wait.Milliseconds()}))
	if err != nil {
		return nil, err
	}
	return fromWire(res.Msg.GetTask()), nil
}

var _ CompletePoller = remote{}

func (r remote) CompleteAndPoll(ctx context.Context, id, token string, result json.RawMessage, queue, workerID string, wait time.Duration) (*Task, error) {
	res, err := r.api.CompleteAndPollTask(ctx, connect.NewRequest(&knhkv1.CompleteAndPollTaskRequest{
		Complete: &knhkv1.CompleteTaskRequest{Id: id, Token: token, ResultJson: string(result)},
		Poll:     &knhkv1.PollTaskRequest{Queue: queue, Worker: workerID, TimeoutMs: wait.Milliseconds()}}))
	if err != nil {
		return nil, refused(err)
	}
	return fromWire(res.Msg.GetTask()), nil
}

var _ Batcher = remote{}

func (r remote) CompleteAndPollTasks(ctx context.Context, queue, workerID string, done []Outcome, max int, wait time.Duration) ([]*Task, []error, error) {
	req := &knhkv1.CompleteAndPollTasksRequest{Queue: queue, Worker: workerID, MaxTasks: int32(max), WaitMs: wait.Milliseconds(),
		Completions: make([]*knhkv1.TaskOutcome, len(done))}
	for i, o := range done {
		req.Completions[i] = outcomeToWire(o)
	}
	res, err := r.api.CompleteAndPollTasks(ctx, connect.NewRequest(req))
	if err != nil {
		if connect.CodeOf(err) == connect.CodeUnimplemented {
			return nil, nil, fmt.Errorf("%w: %w", errors.ErrUnsupported, err)
		}
		return nil, nil, err
	}
	errs := make([]error, len(done))
	for _, ce := range res.Msg.GetCompletionErrors() {
		i := int(ce.GetIndex())
		if i < 0 || i >= len(errs) {
			continue
		}
		errs[i] = refusedCode(ce.GetCode(), ce.GetMessage())
	}
	tasks := make([]*Task, 0, len(res.Msg.GetTasks()))
	for _, t := range res.Msg.GetTasks() {
		tasks = append(tasks, fromWire(t))
	}
	return tasks, errs, nil
}

// fromWire converts a delivery; nil stays nil.
func fromWire(t *knhkv1.WorkerTask) *Task {
	if t == nil {
		return nil
	}
	return &Task{ID: t.GetId(), Queue: t.GetQueue(), Task: t.GetTask(), CaseID: t.GetCaseId(),
		Attempt: int(t.GetAttempt()), Input: json.RawMessage(t.GetInputJson()), LeaseToken: t.GetToken(),
		LeaseDeadline: unixNano(t.GetLeaseDeadlineUnixNano()), Deadline: unixNano(t.GetDeadlineUnixNano())}
}

func (r remote) Heartbeat(ctx context.Context, id, token string) (time.Time, error) {
	res, err := r.api.Heartbeat(ctx, connect.NewRequest(&knhkv1.HeartbeatRequest{Id: id, Token: token}))
	if err != nil {
		return time.Time{}, refused(err)
	}
	return unixNano(res.Msg.GetLeaseDeadlineUnixNano()), nil
}

func (r remote) CompleteTask(ctx context.Context, id, token string, result json.RawMessage) error {
	_, err := r.api.CompleteTask(ctx, connect.NewRequest(&knhkv1.CompleteTaskRequest{Id: id, Token: token, ResultJson: string(result)}))
	return refused(err)
}

func (r remote) FailTask(ctx context.Context, id, token, message string) error {
	_, err := r.api.FailTask(ctx, connect.NewRequest(&knhkv1.FailTaskRequest{Id: id, Token: token, Message: message}))
	return refused(err)
}

// refused wraps ErrLeaseLost around the server's refusals of a task the
// worker no longer holds: not found (forgotten, or a restarted server)
// and failed precondition (lease lost, already finished).
func refused(err error) error {
	switch connect.CodeOf(err) {
	case connect.CodeNotFound, connect.CodeFailedPrecondition, connect.CodeAborted:
		return fmt.Errorf("%w: %w", ErrLeaseLost, err)
	}
	return err
}

// unixNano converts a wire time; 0 is the zero time.
func unixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
