// This file implements the queue tasks of a cluster: the broker that
// hands `queue "name"` tasks to external workers lives on the leader,
// and only while it leads.

package cluster

import (
	"context"
	"sync"

	"github.com/knhk/knhk/runtime/queue"
)

// Queue is a node's broker of queue tasks, for worker.Options.Queue and
// Config.Queue. While the node leads it holds a runtime/queue Broker:
// the leader's engine submits each attempt there, workers poll and
// complete there (followers forward their calls), and a completion is
// acknowledged once the engine has committed its outcome through the
// log (the broker's durable jobs). When the node stops leading the
// broker is closed, its pollers and leases with it; the next leader
// recovers the cases and submits the attempts still in flight again,
// with the same ids, so a completion that was not committed is not
// lost: the attempt is delivered again.
type Queue struct {
	opts queue.Options

	mu sync.Mutex
	b  *queue.Broker
}

// NewQueue returns a node's queue, holding no broker until the node
// leads.
func NewQueue(o queue.Options) *Queue { return &Queue{opts: o} }

// Broker returns the broker while the node leads, nil otherwise.
func (q *Queue) Broker() *queue.Broker {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.b
}

// Submit submits j to the leader's broker; without one (the node does
// not lead any more) it fails with queue.ErrClosed, and the next
// leader submits the attempt again.
func (q *Queue) Submit(ctx context.Context, j queue.Job) (any, error) {
	b := q.Broker()
	if b == nil {
		return nil, queue.ErrClosed
	}
	return b.Submit(ctx, j)
}

// Recorded passes the engine's word on an outcome to the broker.
func (q *Queue) Recorded(id string, err error) {
	if b := q.Broker(); b != nil {
		b.Recorded(id, err)
	}
}

// open gives the node a fresh broker as it starts leading.
func (q *Queue) open() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.b != nil {
		q.b.Close()
	}
	q.b = queue.New(q.opts)
}

// close closes the broker as the node stops leading.
func (q *Queue) close() {
	q.mu.Lock()
	b := q.b
	q.b = nil
	q.mu.Unlock()
	if b != nil {
		b.Close()
	}
}
