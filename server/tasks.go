// This file implements the worker side of queue tasks: external workers
// poll a queue, heartbeat, and complete or fail what they hold, over the
// Service's runtime/queue Broker, which every program's worker submits
// the attempts of its queue bindings to.

package server

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/knhk/knhk/runtime/queue"
)

// maxPoll bounds one long poll of PollTask.
const maxPoll = 60 * time.Second

// taskError maps a broker error to the Service's codes, keeping its
// message.
func taskError(err error, field string) error {
	if err == nil {
		return nil
	}
	code := CodeInternal
	switch {
	case errors.Is(err, queue.ErrUnknownTask):
		code, field = CodeNotFound, "id"
	case errors.Is(err, queue.ErrLeaseLost), errors.Is(err, queue.ErrFinished):
		code, field = CodeFailedPrecondition, "token"
	case errors.Is(err, queue.ErrBadResult):
		code, field = CodeInvalidArgument, "result_json"
	case errors.Is(err, queue.ErrBadRequest):
		code = CodeInvalidArgument
	case errors.Is(err, queue.ErrClosed), errors.Is(err, queue.ErrNotRecorded):
		// Not recorded in time: the worker may retry; a lost outcome is
		// delivered again, with the same ID, after a restart.
		code, field = CodeUnavailable, ""
	}
	return &Error{Code: code, Field: field, Message: err.Error(), Err: err}
}

// PollTask waits at most timeout (default and at most a minute) for a
// task of queue and leases it to worker; ok is false when none came.
func (s *Service) PollTask(ctx context.Context, queueName, worker string, timeout time.Duration) (t queue.Task, ok bool, err error) {
	if err := s.enter(); err != nil {
		return queue.Task{}, false, err
	}
	defer s.leave()
	if queueName == "" {
		return queue.Task{}, false, errf(CodeInvalidArgument, "queue", "name the queue to poll")
	}
	if timeout <= 0 || timeout > maxPoll {
		timeout = maxPoll
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer context.AfterFunc(s.stopCtx, cancel)() // a drain ends the poll with no task
	t, err = s.broker.Poll(ctx, queueName, worker)
	if err != nil {
		if ctx.Err() != nil {
			return queue.Task{}, false, nil
		}
		return queue.Task{}, false, taskError(err, "queue")
	}
	return t, true, nil
}

// Heartbeat extends the lease of task id.
func (s *Service) Heartbeat(ctx context.Context, id, token string) (time.Time, error) {
	if err := s.enter(); err != nil {
		return time.Time{}, err
	}
	defer s.leave()
	at, err := s.broker.Heartbeat(ctx, id, token)
	return at, taskError(err, "id")
}

// CompleteTask finishes task id with result (JSON of the task's result
// type); a result of another type fails the attempt and is reported.
func (s *Service) CompleteTask(ctx context.Context, id, token string, result []byte) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	if !json.Valid(result) {
		return errf(CodeInvalidArgument, "result_json", "the result is not JSON")
	}
	return taskError(s.broker.Complete(ctx, id, token, result), "id")
}

// CompleteAndPoll is CompleteTask and then PollTask on queueName, a
// worker's steady state in one call: the poll starts only once the
// completion is acknowledged (durable); a refused completion is the
// error, and nothing is polled.
func (s *Service) CompleteAndPoll(ctx context.Context, id, token string, result []byte, queueName, worker string, timeout time.Duration) (queue.Task, bool, error) {
	if queueName == "" {
		return queue.Task{}, false, errf(CodeInvalidArgument, "poll.queue", "name the queue to poll")
	}
	if err := s.CompleteTask(ctx, id, token, result); err != nil {
		return queue.Task{}, false, err
	}
	return s.PollTask(ctx, queueName, worker, timeout)
}

// FailTask fails the attempt of task id with message.
func (s *Service) FailTask(ctx context.Context, id, token, message string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	return taskError(s.broker.Fail(ctx, id, token, message), "id")
}
