// This file implements the broker's counters, for metrics.

package queue

import "sort"

// Counts are the running totals of one queue.
type Counts struct {
	Completed uint64 // completed by a worker
	Failed    uint64 // failed by a worker, or completed with a bad result
	Expired   uint64 // leases that ran out
	Withdrawn uint64 // attempts the engine gave up on (timeout, cancel)
}

// QueueStats is a snapshot of one queue.
type QueueStats struct {
	Queue   string
	Pending int // tasks waiting for a worker: the queue's depth
	Leased  int // tasks held by a worker
	Pollers int // workers blocked in Poll
	Counts
}

// Stats returns a snapshot of every queue the broker has seen, sorted by
// name.
func (b *Broker) Stats() []QueueStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]QueueStats, 0, len(b.queues))
	for name, q := range b.queues {
		out = append(out, QueueStats{Queue: name, Pending: q.pending.Len(), Leased: q.leased,
			Pollers: q.waiters.Len(), Counts: q.counts})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Queue < out[j].Queue })
	return out
}
