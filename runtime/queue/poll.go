// This file implements the worker's long poll.

package queue

import (
	"container/list"
	"context"
	"fmt"
)

// waiter is one blocked poller, with room for max tasks. A task is sent
// on ch (buffered to max, so the sender never blocks) under b.mu; the
// waiter leaves its queue's list (elem nil) once it is full or wakes
// up, and ch is closed when the broker closes.
type waiter struct {
	worker string
	max    int
	got    int
	ch     chan Task
	elem   *list.Element
}

// hand leases e to the waiter at f, which leaves the list once full.
// b.mu is held.
func (b *Broker) hand(q *queueState, f *list.Element, e *entry) {
	w := f.Value.(*waiter)
	w.got++
	if w.got == w.max {
		q.waiters.Remove(f)
		w.elem = nil
	}
	w.ch <- b.leaseTo(q, e, w.worker)
}

// Poll waits for the next task of queue and leases it to worker (a name
// for logs and errors). It returns ctx's error when ctx ends first; a
// server's long poll maps context.DeadlineExceeded to "no task".
func (b *Broker) Poll(ctx context.Context, queue, worker string) (Task, error) {
	ts, err := b.PollN(ctx, queue, worker, 1)
	if err != nil {
		return Task{}, err
	}
	return ts[0], nil
}

// PollN is Poll for up to max tasks (at least one): it waits for the
// first as Poll does, and returns with it the tasks pending then and
// those handed to it while it woke up. The engine submits the next
// tasks of the cases that one group commit moved on within
// microseconds of each other, so a server that pushes tasks to a
// worker (WorkTasks) sends them in one message instead of one each.
func (b *Broker) PollN(ctx context.Context, queue, worker string, max int) ([]Task, error) {
	if queue == "" || len(queue) > MaxQueueName {
		return nil, fmt.Errorf("%w: poll needs a queue name of 1 to %d bytes", ErrBadRequest, MaxQueueName)
	}
	if max < 1 {
		return nil, fmt.Errorf("%w: poll for %d tasks; at least 1", ErrBadRequest, max)
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, ErrClosed
	}
	q := b.queue(queue)
	if ts := b.takePending(q, worker, max, nil); len(ts) > 0 {
		b.mu.Unlock()
		return ts, nil
	}
	w := &waiter{worker: worker, max: max, ch: make(chan Task, max)}
	w.elem = q.waiters.PushBack(w)
	b.mu.Unlock()
	select {
	case t, ok := <-w.ch:
		if !ok {
			return nil, ErrClosed
		}
		if max == 1 {
			// Full: hand took w off the list, and there is no room
			// for more. A Poll does not take b.mu again.
			return []Task{t}, nil
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		b.leave(q, w)
		ts := []Task{t}
		for len(ts) < max {
			select {
			case t, ok := <-w.ch:
				if ok {
					ts = append(ts, t)
					continue
				}
			default:
			}
			break
		}
		if !b.closed {
			ts = b.takePending(q, worker, max, ts)
		}
		return ts, nil
	case <-ctx.Done():
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.leave(q, w)
	// Handed tasks as ctx ended: give them back, front of the queue.
	for {
		select {
		case t, ok := <-w.ch:
			if ok {
				if e := b.live[t.ID]; e != nil && e.token == t.Token {
					b.unlease(q, e)
				}
				continue
			}
		default:
		}
		break
	}
	b.drop(queue, q)
	return nil, ctx.Err()
}

// leave takes w out of its queue's waiters if it is still there. b.mu
// is held.
func (b *Broker) leave(q *queueState, w *waiter) {
	if w.elem != nil {
		q.waiters.Remove(w.elem)
		w.elem = nil
	}
}

// takePending leases pending tasks to worker, oldest first, until ts
// holds max. b.mu is held.
func (b *Broker) takePending(q *queueState, worker string, max int, ts []Task) []Task {
	if ts == nil && q.pending.Len() > 0 {
		ts = make([]Task, 0, min(max, q.pending.Len()))
	}
	for len(ts) < max {
		f := q.pending.Front()
		if f == nil {
			break
		}
		e := q.pending.Remove(f).(*entry)
		ts = append(ts, b.leaseTo(q, e, worker))
	}
	return ts
}

// drop forgets queue when nothing is in it and nothing ever happened in
// it, so that polls of names no program uses leave nothing behind.
// b.mu is held.
func (b *Broker) drop(name string, q *queueState) {
	if q.pending.Len() == 0 && q.waiters.Len() == 0 && q.leased == 0 && q.counts == (Counts{}) {
		delete(b.queues, name)
	}
}
