// This file implements the queue workers' calls on a cluster node:
// PollTask, Heartbeat, CompleteTask, FailTask and CompleteAndPollTask,
// answered by the leader's broker (runtime/cluster.Queue); a follower
// forwards them (the Connect API is leader-only). A completion returns
// once the engine has committed the outcome through the raft log.

package server

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/runtime/queue"
)

// broker returns the leader's broker: an Unavailable error (retry, the
// leader may have changed) on a node that does not lead, and
// FailedPrecondition on a node started without queues.
func (r *clusterRPC) broker() (*queue.Broker, error) {
	q := r.a.n.Queue()
	if q == nil {
		return nil, connect.NewError(connect.CodeFailedPrecondition, errNoQueues)
	}
	b := q.Broker()
	if b == nil {
		return nil, connectErr(r.a.n.NotLeader())
	}
	return b, nil
}

var errNoQueues = errors.New("this node serves no queue tasks (it was started without a queue broker)")

func (r *clusterRPC) poll(ctx context.Context, m *knhkv1.PollTaskRequest) (*knhkv1.WorkerTask, error) {
	if m.TimeoutMs < 0 {
		return nil, toConnect(errf(CodeInvalidArgument, "timeout_ms", "timeout_ms is negative (%d)", m.TimeoutMs))
	}
	if m.Queue == "" {
		return nil, toConnect(errf(CodeInvalidArgument, "queue", "name the queue to poll"))
	}
	b, err := r.broker()
	if err != nil {
		return nil, err
	}
	timeout := time.Duration(m.TimeoutMs) * time.Millisecond
	if timeout <= 0 || timeout > maxPoll {
		timeout = maxPoll
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t, err := b.Poll(pctx, m.Queue, m.Worker)
	if err != nil {
		if pctx.Err() != nil {
			return nil, nil
		}
		return nil, toConnect(taskError(err, "queue"))
	}
	return workerTask(t, true), nil
}

func (r *clusterRPC) PollTask(ctx context.Context, req *connect.Request[knhkv1.PollTaskRequest]) (*connect.Response[knhkv1.PollTaskResponse], error) {
	t, err := r.poll(ctx, req.Msg)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&knhkv1.PollTaskResponse{Task: t}), nil
}

func (r *clusterRPC) Heartbeat(ctx context.Context, req *connect.Request[knhkv1.HeartbeatRequest]) (*connect.Response[knhkv1.HeartbeatResponse], error) {
	b, err := r.broker()
	if err != nil {
		return nil, err
	}
	at, err := b.Heartbeat(ctx, req.Msg.Id, req.Msg.Token)
	if err != nil {
		return nil, toConnect(taskError(err, "id"))
	}
	return connect.NewResponse(&knhkv1.HeartbeatResponse{LeaseDeadlineUnixNano: at.UnixNano()}), nil
}

func (r *clusterRPC) complete(ctx context.Context, m *knhkv1.CompleteTaskRequest) error {
	if !json.Valid([]byte(m.ResultJson)) {
		return toConnect(errf(CodeInvalidArgument, "result_json", "the result is not JSON"))
	}
	b, err := r.broker()
	if err != nil {
		return err
	}
	return toConnect(taskError(b.Complete(ctx, m.Id, m.Token, []byte(m.ResultJson)), "id"))
}

func (r *clusterRPC) CompleteTask(ctx context.Context, req *connect.Request[knhkv1.CompleteTaskRequest]) (*connect.Response[knhkv1.CompleteTaskResponse], error) {
	if err := r.complete(ctx, req.Msg); err != nil {
		return nil, err
	}
	return connect.NewResponse(&knhkv1.CompleteTaskResponse{}), nil
}

func (r *clusterRPC) FailTask(ctx context.Context, req *connect.Request[knhkv1.FailTaskRequest]) (*connect.Response[knhkv1.FailTaskResponse], error) {
	b, err := r.broker()
	if err != nil {
		return nil, err
	}
	if err := b.Fail(ctx, req.Msg.Id, req.Msg.Token, req.Msg.Message); err != nil {
		return nil, toConnect(taskError(err, "id"))
	}
	return connect.NewResponse(&knhkv1.FailTaskResponse{}), nil
}

func (r *clusterRPC) CompleteAndPollTask(ctx context.Context, req *connect.Request[knhkv1.CompleteAndPollTaskRequest]) (*connect.Response[knhkv1.CompleteAndPollTaskResponse], error) {
	c, p := req.Msg.GetComplete(), req.Msg.GetPoll()
	switch {
	case c == nil:
		return nil, toConnect(errf(CodeInvalidArgument, "complete", "name the task to complete"))
	case p == nil:
		return nil, toConnect(errf(CodeInvalidArgument, "poll", "name the queue to poll"))
	}
	if err := r.complete(ctx, c); err != nil {
		return nil, err
	}
	t, err := r.poll(ctx, p)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&knhkv1.CompleteAndPollTaskResponse{Task: t}), nil
}
