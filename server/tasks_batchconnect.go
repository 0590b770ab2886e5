// This file implements the Connect method CompleteAndPollTasks, on a
// single server and on a cluster's leader (a follower forwards it, as it
// does the other task calls).

package server

import (
	"context"
	"errors"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/runtime/queue"
)

// outcomesFromWire converts a list of outcomes.
func outcomesFromWire(list []*knhkv1.TaskOutcome) []TaskOutcome {
	done := make([]TaskOutcome, len(list))
	for i, c := range list {
		done[i] = TaskOutcome{ID: c.GetId(), Token: c.GetToken(), Result: []byte(c.GetResultJson())}
		if f, ok := c.GetOutcome().(*knhkv1.TaskOutcome_Failure); ok {
			done[i].Failed, done[i].Failure = true, f.Failure
		}
	}
	return done
}

// refusal is the Connect code (as text) and the field of a completion's
// refusal.
func refusal(err error) (code, field string) {
	var e *Error
	if errors.As(err, &e) {
		return connectCodes[e.Code].String(), e.Field
	}
	return connect.CodeInternal.String(), ""
}

// batchToWire converts the answer of a batch.
func batchToWire(done []TaskOutcome, tasks []queue.Task, errs []error) *knhkv1.CompleteAndPollTasksResponse {
	out := &knhkv1.CompleteAndPollTasksResponse{}
	for _, t := range tasks {
		out.Tasks = append(out.Tasks, workerTask(t, true))
	}
	for i, err := range errs {
		if err == nil {
			continue
		}
		code, field := refusal(err)
		out.CompletionErrors = append(out.CompletionErrors, &knhkv1.CompletionError{Index: int32(i), Id: done[i].ID, Code: code, Field: field, Message: err.Error()})
	}
	return out
}

func (a *api) CompleteAndPollTasks(ctx context.Context, r *connect.Request[knhkv1.CompleteAndPollTasksRequest]) (*connect.Response[knhkv1.CompleteAndPollTasksResponse], error) {
	m := r.Msg
	done := outcomesFromWire(m.GetCompletions())
	tasks, errs, err := a.s.CompleteAndPollTasks(ctx, m.GetQueue(), m.GetWorker(), done, int(m.GetMaxTasks()), time.Duration(m.GetWaitMs())*time.Millisecond)
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(batchToWire(done, tasks, errs)), nil
}

func (r *clusterRPC) CompleteAndPollTasks(ctx context.Context, req *connect.Request[knhkv1.CompleteAndPollTasksRequest]) (*connect.Response[knhkv1.CompleteAndPollTasksResponse], error) {
	m := req.Msg
	done := outcomesFromWire(m.GetCompletions())
	wait := time.Duration(m.GetWaitMs()) * time.Millisecond
	if err := checkBatch(m.GetQueue(), done, int(m.GetMaxTasks()), wait); err != nil {
		return nil, toConnect(err)
	}
	b, err := r.broker()
	if err != nil {
		return nil, err
	}
	tasks, errs := batchTasks(ctx, nil, b, m.GetQueue(), m.GetWorker(), done, int(m.GetMaxTasks()), wait)
	return connect.NewResponse(batchToWire(done, tasks, errs)), nil
}
