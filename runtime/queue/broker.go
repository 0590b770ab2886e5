// This file implements the Broker and its engine side: Submit.

package queue

import (
	"container/list"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// DefaultLease is how long a delivery is held without a heartbeat when
// [Options.Lease] is zero.
const DefaultLease = 30 * time.Second

// MaxQueueName bounds the length of a queue name, as the checker does
// for the names in queue bindings.
const MaxQueueName = 128

// defaultRemember is how many finished task IDs a broker remembers, so
// that a late or duplicate call gets [ErrLeaseLost] or [ErrFinished]
// rather than [ErrUnknownTask].
const defaultRemember = 1 << 16

// Options configure a [Broker]. Every field is optional.
type Options struct {
	// Lease is how long a worker holds a task after a poll or a
	// heartbeat; zero means DefaultLease.
	Lease time.Duration
	// Remember bounds how many finished task IDs are kept for clear
	// errors on late calls; zero means 65536.
	Remember int
	// RecordWait bounds how long Complete waits for the engine to record
	// a durable job's outcome ([Job.Durable]); zero means 10 seconds.
	RecordWait time.Duration
}

// Job is one attempt of a queue task, as the engine submits it.
type Job struct {
	// ID is the attempt's idempotency key: unique per attempt and the
	// same on every delivery of it.
	ID      string
	Queue   string
	Task    string // the task's name in the program
	CaseID  string
	Attempt int
	// Input is the task's named arguments as one JSON object.
	Input json.RawMessage
	// Deadline is when the engine gives up on the attempt (its timeout
	// clause); zero means none. Workers see it to stop in time.
	Deadline time.Time
	// Decode checks a worker's result against the task's result type and
	// converts it; an error fails the attempt and is returned to the
	// worker wrapped in [ErrBadResult]. Nil keeps the raw JSON.
	Decode func(json.RawMessage) (any, error)
	// Durable makes Complete and Fail return only once the engine has
	// written the outcome to its log and said so with [Broker.Recorded],
	// so that an acknowledged completion survives a crash.
	Durable bool
}

// Task is one delivery of a [Job] to a worker.
type Task struct {
	ID      string
	Queue   string
	Task    string
	CaseID  string
	Attempt int
	Input   json.RawMessage
	// Token proves the delivery: Heartbeat, Complete and Fail must
	// present it.
	Token string
	// LeaseDeadline is when the lease runs out unless extended.
	LeaseDeadline time.Time
	// Deadline is the attempt's own deadline; zero means none.
	Deadline time.Time
}

// state is where an entry stands.
type state uint8

const (
	pending state = iota // waiting in its queue
	leased               // held by a worker
)

// entry is one live job.
type entry struct {
	job    Job
	st     state
	worker string
	token  string
	// due is when the entry's deadline comes while it is in one of the
	// broker's deadlines lists (expire.go), which dprev and dnext link
	// it into: its lease's end while leased (the worker's
	// LeaseDeadline), the end of the wait for the engine's record once
	// finished.
	due          time.Time
	dprev, dnext *entry
	elem         *list.Element // in its queue's pending list while pending
	// done is closed when val and err are set; an entry of SubmitThen's
	// makes it only for a second submitter to wait on.
	done chan struct{}
	// recorded brings the engine's word on a Durable job's outcome to a
	// Complete or Fail that waits for it (made then).
	recorded chan error
	// then, set by CompleteThen and FailThen, takes the engine's word
	// instead of recorded; the broker's records bound the wait for it.
	then  func(error)
	joins int // Submits of the same ID beyond the first
	val   any
	err   error
	// cb, set by SubmitThen, gets val and err once the entry finishes
	// (fire).
	cb func(any, error)
}

// fire calls the SubmitThen callback of e, which has finished. The one
// who finished e calls it, once b.mu is released.
func (e *entry) fire() {
	if e.cb != nil {
		e.cb(e.val, e.err)
	}
}

// queueState is one named queue.
type queueState struct {
	pending list.List // of *entry, oldest first
	waiters list.List // of *waiter, oldest first
	leased  int
	counts  Counts
}

// Broker hands queue tasks from the engine to workers. It is safe for
// concurrent use; the zero value is not usable, call [New].
type Broker struct {
	lease      time.Duration
	remember   int
	recordWait time.Duration

	// done is closed by Close: a worker's stream ends with its broker.
	done chan struct{}

	mu      sync.Mutex
	closed  bool
	queues  map[string]*queueState
	live    map[string]*entry
	unrec   map[string]*entry // finished durable jobs whose outcome is not yet recorded
	leases  deadlines         // the leased entries, by the end of their lease
	records deadlines         // finished entries waiting for the engine's record with then
	gone    map[string]ending // finished IDs -> how they ended, for late calls
	order   []string          // gone's keys, oldest first (a ring)
	next    int
}

// New returns an empty broker.
func New(o Options) *Broker {
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.Remember <= 0 {
		o.Remember = defaultRemember
	}
	if o.RecordWait <= 0 {
		o.RecordWait = 10 * time.Second
	}
	return &Broker{lease: o.Lease, remember: o.Remember, recordWait: o.RecordWait,
		queues: map[string]*queueState{}, live: map[string]*entry{}, gone: map[string]ending{},
		unrec: map[string]*entry{}, done: make(chan struct{})}
}

// Done is closed once the broker is closed: a server that pushes its
// tasks to workers (a cluster leader's, whose broker closes as it stops
// leading) ends their streams then, so that they reopen them where the
// tasks are.
func (b *Broker) Done() <-chan struct{} { return b.done }

// Submit queues j and waits until a worker completes it (returning the
// decoded result), fails it, its lease expires ([ErrLeaseExpired]) or ctx
// ends, which withdraws it. Submitting an ID that is already live waits
// for that same task rather than queueing it twice.
func (b *Broker) Submit(ctx context.Context, j Job) (any, error) {
	e, _, err := b.submit(j, nil)
	if err != nil {
		return nil, err
	}
	return b.wait(ctx, e)
}

// SubmitThen is Submit without the wait: it queues j and returns, and
// then gets what Submit would have returned, once, on the goroutine
// that ends the job (a worker's completion or failure, the lease's
// expiry, the returned withdraw) or, for a job refused at once, before
// SubmitThen returns. withdraw(err) ends the job with err, as Submit's
// context ending does, unless it has ended; it watches no context, so
// an engine that runs many calls at once parks no goroutine and keeps
// no context per call. then must be quick.
func (b *Broker) SubmitThen(j Job, then func(any, error)) (withdraw func(error)) {
	e, joined, err := b.submit(j, then)
	switch {
	case err != nil:
		then(nil, err)
		return func(error) {}
	case joined:
		// Another Submit of the same attempt owns the entry: wait
		// beside it.
		go func() { then(b.wait(context.Background(), e)) }()
	}
	return func(err error) { b.withdraw(e, err) }
}

// submit queues j, or joins the live entry of the same ID; cb, when
// not nil, becomes a new entry's callback (fire).
func (b *Broker) submit(j Job, cb func(any, error)) (e *entry, joined bool, err error) {
	if j.ID == "" || j.Queue == "" {
		return nil, false, fmt.Errorf("%w: a job needs an ID and a queue", ErrBadRequest)
	}
	if j.Input == nil {
		j.Input = json.RawMessage("{}")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, false, ErrClosed
	}
	if e, ok := b.live[j.ID]; ok {
		e.joins++
		if e.done == nil {
			e.done = make(chan struct{})
		}
		return e, true, nil
	}
	e = &entry{job: j, cb: cb}
	if cb == nil {
		e.done = make(chan struct{})
	}
	b.live[j.ID] = e
	delete(b.gone, j.ID)
	b.enqueue(b.queue(j.Queue), e)
	return e, false, nil
}

// wait waits for e to finish, withdrawing it when ctx ends first.
func (b *Broker) wait(ctx context.Context, e *entry) (any, error) {
	select {
	case <-e.done:
		return e.val, e.err
	case <-ctx.Done():
	}
	b.withdraw(e, ctx.Err())
	<-e.done
	return e.val, e.err
}

// withdraw ends e with err (its submitter gave up on it) unless it
// finished meanwhile.
func (b *Broker) withdraw(e *entry, err error) {
	b.mu.Lock()
	if b.live[e.job.ID] != e {
		b.mu.Unlock()
		return
	}
	q := b.queue(e.job.Queue)
	q.counts.Withdrawn++
	b.finish(q, e, nil, err, endWithdrawn)
	b.mu.Unlock()
	e.fire()
}

// queue returns the named queue, creating it. b.mu is held.
func (b *Broker) queue(name string) *queueState {
	q := b.queues[name]
	if q == nil {
		q = &queueState{}
		b.queues[name] = q
	}
	return q
}

// enqueue hands e to the newest waiting poller, or appends it to the
// pending list. b.mu is held.
//
// The newest poller, not the oldest: a poller that has just come back
// is a worker that has just finished a task or taken one and has room
// for more, so tasks gather on the workers already at work instead of
// spreading one by one over every idle poller. On WorkTasks streams
// that lets tasks pushed together, their outcomes and their acks share
// messages (a stream that gets a task every few milliseconds sends each
// on its own); the load is still shared as soon as the busy workers
// have no room left, and a poller that waits long enough times out and
// polls again. A retry goes to the oldest poller instead (waiterFor).
func (b *Broker) enqueue(q *queueState, e *entry) {
	if f := waiterFor(q, e); f != nil {
		b.hand(q, f, e)
		return
	}
	e.st = pending
	e.elem = q.pending.PushBack(e)
}

// waiterFor is the waiting poller that e goes to, nil if none: the
// newest (see enqueue), but the oldest for a retry. A worker that fails
// its tasks at once (a handler that cannot work there) polls again
// before the engine has committed the failure and queued the retry, so
// the newest poller would be that same worker for every attempt while
// the others wait idle; the oldest has waited longest, and is not it.
// b.mu is held.
func waiterFor(q *queueState, e *entry) *list.Element {
	if e.job.Attempt > 1 {
		return q.waiters.Front()
	}
	return q.waiters.Back()
}

// leaseTo leases e to worker and returns the delivery. b.mu is held.
func (b *Broker) leaseTo(q *queueState, e *entry, worker string) Task {
	e.st = leased
	e.elem = nil
	e.worker = worker
	e.token = newToken()
	q.leased++
	e.due = time.Now().Add(b.lease)
	b.leases.add(e, b.expireDue)
	j := e.job
	return Task{ID: j.ID, Queue: j.Queue, Task: j.Task, CaseID: j.CaseID, Attempt: j.Attempt,
		Input: j.Input, Token: e.token, LeaseDeadline: e.due, Deadline: j.Deadline}
}

// unlease puts a leased e back at the front of its queue (a poller that
// was handed it had already gone). b.mu is held.
func (b *Broker) unlease(q *queueState, e *entry) {
	b.leases.remove(e)
	e.token, e.worker = "", ""
	q.leased--
	if f := waiterFor(q, e); f != nil {
		b.hand(q, f, e)
		return
	}
	e.st = pending
	e.elem = q.pending.PushFront(e)
}

// finish ends e with (val, err) for the engine and remembers how it
// ended for a later worker call. b.mu is held.
func (b *Broker) finish(q *queueState, e *entry, val any, err error, how ending) {
	switch e.st {
	case pending:
		q.pending.Remove(e.elem)
		e.elem = nil
	case leased:
		b.leases.remove(e)
		q.leased--
	}
	delete(b.live, e.job.ID)
	b.forget(e.job.ID, how)
	e.val, e.err = val, err
	if e.done != nil {
		close(e.done)
	}
}

// forget records id as finished, dropping the oldest record past the
// bound. b.mu is held.
func (b *Broker) forget(id string, how ending) {
	if len(b.order) < b.remember {
		b.order = append(b.order, id)
	} else {
		old := b.order[b.next]
		if b.live[old] == nil {
			delete(b.gone, old)
		}
		b.order[b.next] = id
		b.next = (b.next + 1) % b.remember
	}
	b.gone[id] = how
}

// newToken returns a fresh random lease token.
func newToken() string {
	var p [16]byte
	rand.Read(p[:])
	return hex.EncodeToString(p[:])
}

// Close stops the broker: pollers return [ErrClosed] and new jobs are
// refused. Jobs already submitted stay until they finish or their
// context ends.
func (b *Broker) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		close(b.done)
	}
	b.closed = true
	for _, q := range b.queues {
		for f := q.waiters.Front(); f != nil; f = q.waiters.Front() {
			w := q.waiters.Remove(f).(*waiter)
			w.elem = nil
			close(w.ch)
		}
	}
}
