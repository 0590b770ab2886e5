// This file implements the worker's long poll.

package queue

import (
	"container/list"
	"context"
	"fmt"
)

// waiter is one blocked poller. A task is sent on ch (buffered, so the
// sender never blocks) at the moment the waiter is removed from its
// queue's list, both under b.mu; ch is closed when the broker closes.
type waiter struct {
	worker string
	ch     chan Task
	elem   *list.Element
}

// Poll waits for the next task of queue and leases it to worker (a name
// for logs and errors). It returns ctx's error when ctx ends first; a
// server's long poll maps context.DeadlineExceeded to "no task".
func (b *Broker) Poll(ctx context.Context, queue, worker string) (Task, error) {
	if queue == "" || len(queue) > MaxQueueName {
		return Task{}, fmt.Errorf("%w: poll needs a queue name of 1 to %d bytes", ErrBadRequest, MaxQueueName)
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return Task{}, ErrClosed
	}
	q := b.queue(queue)
	if f := q.pending.Front(); f != nil {
		e := q.pending.Remove(f).(*entry)
		t := b.leaseTo(q, e, worker)
		b.mu.Unlock()
		return t, nil
	}
	w := &waiter{worker: worker, ch: make(chan Task, 1)}
	w.elem = q.waiters.PushBack(w)
	b.mu.Unlock()
	select {
	case t, ok := <-w.ch:
		if !ok {
			return Task{}, ErrClosed
		}
		return t, nil
	case <-ctx.Done():
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case t, ok := <-w.ch:
		// Handed a task as ctx ended: give it back, front of the queue.
		if ok {
			if e := b.live[t.ID]; e != nil && e.token == t.Token {
				b.unlease(q, e)
			}
		}
	default:
		if !b.closed {
			q.waiters.Remove(w.elem)
		}
	}
	b.drop(queue, q)
	return Task{}, ctx.Err()
}

// drop forgets queue when nothing is in it and nothing ever happened in
// it, so that polls of names no program uses leave nothing behind.
// b.mu is held.
func (b *Broker) drop(name string, q *queueState) {
	if q.pending.Len() == 0 && q.waiters.Len() == 0 && q.leased == 0 && q.counts == (Counts{}) {
		delete(b.queues, name)
	}
}
