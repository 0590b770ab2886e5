// This file implements CompleteAndPollTasks: a worker ends several held
// tasks and leases several new ones in one round trip. Over HTTP a round
// trip costs more CPU than the engine's work for a no-op task, so a
// worker with N slots that pays one call per task instead of two per
// task spends most of the server's time in the transport; the batch
// amortises it, and its completions, applied without waiting for one another, share one
// group commit of the engine's store.

package server

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/knhk/knhk/runtime/queue"
)

// Limits of one CompleteAndPollTasks call.
const (
	// MaxBatchTasks bounds max_tasks.
	MaxBatchTasks = 256
	// MaxBatchCompletions bounds the completions of one call.
	MaxBatchCompletions = 1024
)

// TaskOutcome ends one held task in [Service.CompleteAndPollTasks]:
// Result completes it (JSON of the task's result type) unless Failed,
// which fails the attempt with Failure.
type TaskOutcome struct {
	ID, Token string
	Result    []byte
	Failed    bool
	Failure   string
}

// CompleteAndPollTasks applies done, each outcome on its own, and then
// leases up to max tasks of queueName to worker, waiting at most wait
// (0: not at all) for the first one; further tasks are taken only when
// already pending. errs is aligned with done: nil for an applied
// outcome, else the refusal that the plain call would have returned
// (a lost lease, a task finished already or named twice in done: those
// change nothing). err is for the call as a whole (bad limits, a drain):
// then nothing was applied.
func (s *Service) CompleteAndPollTasks(ctx context.Context, queueName, worker string, done []TaskOutcome, max int, wait time.Duration) (tasks []queue.Task, errs []error, err error) {
	if err := s.enter(); err != nil {
		return nil, nil, err
	}
	defer s.leave()
	if err := checkBatch(queueName, done, max, wait); err != nil {
		return nil, nil, err
	}
	tasks, errs = batchTasks(ctx, s.stopCtx, s.broker, queueName, worker, done, max, wait)
	return tasks, errs, nil
}

// checkBatch validates the call as a whole.
func checkBatch(queueName string, done []TaskOutcome, max int, wait time.Duration) error {
	switch {
	case max < 0 || max > MaxBatchTasks:
		return errf(CodeInvalidArgument, "max_tasks", "max_tasks is %d; it must be 0 to %d", max, MaxBatchTasks)
	case wait < 0 || wait > maxPoll:
		return errf(CodeInvalidArgument, "wait_ms", "wait_ms is %d; it must be 0 to %d", wait.Milliseconds(), maxPoll.Milliseconds())
	case max > 0 && queueName == "":
		return errf(CodeInvalidArgument, "queue", "name the queue to poll (max_tasks is %d)", max)
	case len(queueName) > queue.MaxQueueName:
		return errf(CodeInvalidArgument, "queue", "the queue name is %d bytes; at most %d", len(queueName), queue.MaxQueueName)
	case len(done) > MaxBatchCompletions:
		return errf(CodeInvalidArgument, "completions", "%d completions in one call; at most %d", len(done), MaxBatchCompletions)
	case max == 0 && len(done) == 0:
		return errf(CodeInvalidArgument, "completions", "nothing to do: no completions and max_tasks is 0")
	}
	return nil
}

// batchTasks is CompleteAndPollTasks over b, of a call checkBatch
// passed; stop ends a poll early (a drain), nil for none. The cluster's
// leader runs it over its broker.
func batchTasks(ctx, stop context.Context, b *queue.Broker, queueName, worker string, done []TaskOutcome, max int, wait time.Duration) ([]queue.Task, []error) {
	errs := completeBatch(b, done, "completions")
	return pollBatch(ctx, stop, b, queueName, worker, max, wait), errs
}

// completeBatch applies done, each outcome on its own, and returns each
// one's refusal once all are settled; list is the request's field that
// holds them, for the refusals' fields.
func completeBatch(b *queue.Broker, done []TaskOutcome, list string) []error {
	errs := make([]error, len(done))
	var wg sync.WaitGroup
	wg.Add(len(done))
	applyOutcomes(b, done, list, func(i int, err error) {
		errs[i] = err
		wg.Done()
	})
	wg.Wait()
	return errs
}

// applyOutcomes applies done, each outcome on its own and without
// waiting for the engine to record it, so that the engine commits them
// together, and calls then(i, err) once for each: err nil once outcome
// i is applied and durable, else the refusal that the plain call would
// have returned (a lost lease, a task finished already or named twice
// in done: those change nothing). then may run on the store's
// committer: it must be quick.
func applyOutcomes(b *queue.Broker, done []TaskOutcome, list string, then func(i int, err error)) {
	// The field of completion i, for a refusal only: formatting it for
	// every outcome cost a stream's server an allocation per task.
	field := func(i int) string { return list + "[" + strconv.Itoa(i) + "]" }
	var seen map[string]int
	if len(done) > 1 {
		seen = make(map[string]int, len(done))
	}
	for i, o := range done {
		switch first, dup := seen[o.ID]; {
		case o.ID == "":
			then(i, errf(CodeInvalidArgument, field(i)+".id", "completion %d names no task", i))
			continue
		case dup:
			// The broker would refuse the second anyway: refuse it
			// here, saying why.
			then(i, errf(CodeFailedPrecondition, field(i)+".id", "task %s is ended twice in this call (completions %d and %d); only the first is applied", o.ID, first, i))
			continue
		case !o.Failed && !json.Valid(o.Result):
			then(i, errf(CodeInvalidArgument, field(i)+".result_json", "the result of task %s is not JSON", o.ID))
			continue
		}
		if seen != nil {
			seen[o.ID] = i
		}
		settle := func(err error) {
			e := taskError(err, "id")
			if e == nil {
				then(i, nil)
				return
			}
			// The plain call's field, within this completion (an
			// unknown task's "id" included).
			if se, ok := e.(*Error); ok && se.Field != "" {
				se.Field = field(i) + "." + se.Field
			}
			then(i, e)
		}
		if o.Failed {
			b.FailThen(o.ID, o.Token, o.Failure, settle)
		} else {
			b.CompleteThen(o.ID, o.Token, o.Result, settle)
		}
	}
}

// pollBatch leases up to max tasks with [queue.Broker.PollN]: the first
// waits up to wait, the others are those pending then.
func pollBatch(ctx, stop context.Context, b *queue.Broker, queueName, worker string, max int, wait time.Duration) []queue.Task {
	if max == 0 {
		return nil
	}
	// A wait of 0 is an ended context: PollN takes pending tasks, or returns.
	pctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if stop != nil {
		defer context.AfterFunc(stop, cancel)()
	}
	// Timed out, drained or closed: the completions were applied, so the
	// call still succeeds.
	tasks, _ := b.PollN(pctx, queueName, worker, max)
	return tasks
}
