// This file implements WorkTasks: a worker's steady state on one
// HTTP/2 stream. Over unary calls every task costs a request and a
// response with their headers, and a worker learns of a new task only
// when it asks; on the stream a task is pushed the moment a credit and
// a pending task meet, and an outcome is one message each way, so the
// transport costs the server about half as much per task (measured in
// bench/serve).

package server

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/runtime/queue"
)

// MaxStreamCredits bounds the tasks a WorkTasks stream may have granted
// and not yet been pushed.
const MaxStreamCredits = MaxBatchTasks

type workStream = connect.BidiStream[knhkv1.WorkTasksRequest, knhkv1.WorkTasksResponse]

func (a *api) WorkTasks(ctx context.Context, st *workStream) error {
	if err := a.s.enter(); err != nil {
		return toConnect(err)
	}
	defer a.s.leave()
	return serveWork(ctx, a.s.stopCtx, a.s.broker, st)
}

// serveWork runs one WorkTasks stream over b until the worker closes
// its side, the stream breaks or stop ends (a drain): then it stops
// pushing tasks, waits for the outcomes it is applying, acknowledges
// them, and returns. A task leased for the stream whose push fails goes
// back to its queue (Release), so a broken stream costs no attempt.
func serveWork(ctx, stop context.Context, b *queue.Broker, st *workStream) error {
	first, err := st.Receive()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}
	q := first.GetQueue()
	switch {
	case q == "":
		return toConnect(errf(CodeInvalidArgument, "queue", "name the queue in the stream's first message"))
	case len(q) > queue.MaxQueueName:
		return toConnect(errf(CodeInvalidArgument, "queue", "the queue name is %d bytes; at most %d", len(q), queue.MaxQueueName))
	}
	w := &streamWorker{b: b, st: st, queue: q, name: first.GetWorker(), granted: make(chan struct{}, 1)}
	// An empty first answer tells the worker that the stream works.
	if err := w.send(&knhkv1.WorkTasksResponse{}); err != nil {
		return err
	}
	pctx, stopPush := context.WithCancel(ctx)
	defer context.AfterFunc(stop, stopPush)()
	pushed := make(chan struct{})
	go func() { defer close(pushed); w.push(pctx) }()
	var applying sync.WaitGroup
	defer w.releaseHeld() // after applying.Wait: outcomes in flight are not held
	// Receive blocks until the worker sends; it runs on its own so that
	// a drain need not wait for the worker's next message, and takes
	// each message as it comes (no hand-off on a task's path). It ends
	// when the handler returns and the stream is closed; a message it
	// receives after the handler ended is not taken (end), and the
	// worker resends its outcomes by plain calls.
	received := make(chan error, 1)
	var takeMu sync.Mutex
	ended := false
	takeOne := func(m *knhkv1.WorkTasksRequest) error {
		takeMu.Lock()
		defer takeMu.Unlock()
		if ended {
			return nil
		}
		if err := w.take(m, &applying); err != nil {
			return err
		}
		if m.GetStop() {
			stopPush() // the worker takes back its credits
			<-pushed
			w.stopped()
		}
		return nil
	}
	go func() {
		err := takeOne(first)
		for err == nil {
			var m *knhkv1.WorkTasksRequest
			if m, err = st.Receive(); err == nil {
				err = takeOne(m)
			}
		}
		received <- err
	}()
	select {
	case err = <-received:
		w.stopped()
		if errors.Is(err, io.EOF) || ctx.Err() != nil {
			err = nil
		}
	case <-stop.Done():
		err = nil
	case <-ctx.Done():
		err = nil
	}
	takeMu.Lock()
	ended = true
	takeMu.Unlock()
	stopPush()
	<-pushed
	applying.Wait()
	w.mu.Lock()
	if w.flush != nil {
		w.flush.Stop()
	}
	w.mu.Unlock()
	w.send(&knhkv1.WorkTasksResponse{}) // the acks still waiting
	w.sendMu.Lock()
	w.ended = true // the stream is not to be used once the handler returns
	w.sendMu.Unlock()
	return err
}

// releaseHeld gives the tasks pushed on the stream whose outcome it did
// not carry back to their queue: their push may have been lost with the
// connection, and the next poller should not wait for a lease to
// expire. One the worker ended with a plain call meanwhile is refused
// by Release and stays ended.
func (w *streamWorker) releaseHeld() {
	w.mu.Lock()
	held := w.held
	w.held = nil
	w.mu.Unlock()
	for id, token := range held {
		w.b.Release(id, token)
	}
}

// streamWorker is the server's side of one WorkTasks stream.
type streamWorker struct {
	b           *queue.Broker
	st          *workStream
	queue, name string
	sendMu      sync.Mutex // Send is not safe for concurrent use
	// hello is set once the first response is sent, ended when the
	// handler returns (both under sendMu).
	hello, ended bool

	mu      sync.Mutex
	credits int                  // granted and not yet pushed (a poll in progress included)
	held    map[string]string    // pushed and not yet reported on the stream: id -> lease token
	acks    []*knhkv1.OutcomeAck // waiting for a response to ride in (ack)
	flush   *time.Timer          // sends acks that found no task to ride with
	// stopping is set once the worker sent Stop or ended its side:
	// acks go at once.
	stopping bool
	granted  chan struct{} // signals push that credits went up from 0
}

// grant adds n credits, at most MaxStreamCredits in all.
func (w *streamWorker) grant(n int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n < 0 || w.credits+n > MaxStreamCredits {
		return errf(CodeInvalidArgument, "credits", "%d credits with %d granted already; at most %d at a time", n, w.credits, MaxStreamCredits)
	}
	w.credits += n
	if n > 0 {
		select {
		case w.granted <- struct{}{}:
		default:
		}
	}
	return nil
}

// left is how many credits are left.
func (w *streamWorker) left() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return min(w.credits, MaxStreamCredits)
}

// used counts n tasks pushed against the credits; push, the only one
// that spends them, asked for at most left.
func (w *streamWorker) used(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.credits -= n
}

// await waits until a credit is left, or ctx ends.
func (w *streamWorker) await(ctx context.Context) bool {
	for w.left() == 0 {
		select {
		case <-w.granted:
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// send writes one response, with the acks waiting to go.
func (w *streamWorker) send(m *knhkv1.WorkTasksResponse) error {
	w.sendMu.Lock()
	defer w.sendMu.Unlock()
	if w.ended {
		return nil // a late flush: the handler returned
	}
	w.mu.Lock()
	m.Acks = append(m.Acks, w.acks...)
	w.acks = nil
	w.mu.Unlock()
	if len(m.Tasks) == 0 && len(m.Acks) == 0 && w.hello {
		return nil // a flush that found nothing
	}
	w.hello = true
	return w.st.Send(m) // a broken stream: the worker resends unacknowledged outcomes
}

// ackDelay is how long an ack may wait for a task to ride with. Nothing
// waits on an ack but the worker's bookkeeping (its slot's credit went
// with the outcome, and the outcome is durable before it is acked), so
// the delay costs no case any time; riding with a push, an ack costs
// no message of its own. With many streams on a queue the next task of
// a case rarely goes to the stream that finished the previous one, and
// a task comes to a given stream only every few milliseconds: an ack
// flushed after a millisecond cost the server one more message (and a
// write) per task, a third of the stream's traffic (measured in
// bench/serve). A worker that stops (a Stop or the end of its side)
// gets its acks at once, so a shutdown waits for none.
const ackDelay = 20 * time.Millisecond

// maxAcksWaiting bounds the acks that wait for a push: more are sent
// at once.
const maxAcksWaiting = MaxBatchCompletions

// ack queues acks for the next response, sent with the next task
// pushed or after ackDelay, whichever comes first; at once when the
// worker stops or maxAcksWaiting are waiting.
func (w *streamWorker) ack(acks []*knhkv1.OutcomeAck) {
	w.mu.Lock()
	first := len(w.acks) == 0
	w.acks = append(w.acks, acks...)
	now := w.stopping || len(w.acks) >= maxAcksWaiting
	if first && !now {
		if w.flush == nil {
			w.flush = time.AfterFunc(ackDelay, w.flushAcks)
		} else {
			w.flush.Reset(ackDelay)
		}
	}
	w.mu.Unlock()
	if now {
		// Not on this goroutine: ack may run on the store's committer.
		go w.flushAcks()
	}
}

// flushAcks sends the acks waiting, if any.
func (w *streamWorker) flushAcks() { w.send(&knhkv1.WorkTasksResponse{}) }

// stopped marks that the worker stopped taking tasks: its acks go at
// once from now on, and those waiting go now.
func (w *streamWorker) stopped() {
	w.mu.Lock()
	w.stopping = true
	w.mu.Unlock()
	w.flushAcks()
}

// take grants m's credits and applies its outcomes, each on its own,
// acknowledging them in one response once all are applied and durable
// (they share a group commit); it does not wait for that. An error
// ends the stream: nothing of m was applied.
func (w *streamWorker) take(m *knhkv1.WorkTasksRequest, applying *sync.WaitGroup) error {
	if q := m.GetQueue(); q != "" && q != w.queue {
		return toConnect(errf(CodeInvalidArgument, "queue", "the stream takes tasks of queue %q, not %q", w.queue, q))
	}
	if len(m.GetOutcomes()) > MaxBatchCompletions {
		return toConnect(errf(CodeInvalidArgument, "outcomes", "%d outcomes in one message; at most %d", len(m.GetOutcomes()), MaxBatchCompletions))
	}
	if err := w.grant(int(m.GetCredits())); err != nil {
		return toConnect(err)
	}
	if len(m.GetOutcomes()) == 0 {
		return nil
	}
	done := outcomesFromWire(m.GetOutcomes())
	w.mu.Lock()
	for _, o := range done {
		delete(w.held, o.ID) // its outcome, applied or refused, came
	}
	w.mu.Unlock()
	applying.Add(1)
	acks := make([]*knhkv1.OutcomeAck, len(done))
	left := new(atomic.Int32)
	left.Store(int32(len(done)))
	applyOutcomes(w.b, done, "outcomes", func(i int, err error) {
		a := &knhkv1.OutcomeAck{Id: done[i].ID}
		if err != nil {
			a.Code, a.Field = refusal(err)
			a.Message = err.Error()
		}
		acks[i] = a
		if left.Add(-1) == 0 {
			w.ack(acks)
			applying.Done()
		}
	})
	return nil
}

// push leases a task for each credit as tasks come and pushes them,
// until ctx ends: the first task it waits for comes in one response
// with those pending and those handed to it while it woke up (the
// engine dispatches the next tasks of the cases that one group commit
// moved on within microseconds of each other), as credits allow.
func (w *streamWorker) push(ctx context.Context) {
	for w.await(ctx) {
		tasks, err := w.b.PollN(ctx, w.queue, w.name, w.left())
		if err != nil {
			return // ended, or the broker closed
		}
		w.used(len(tasks))
		out := &knhkv1.WorkTasksResponse{Tasks: make([]*knhkv1.WorkerTask, len(tasks))}
		w.mu.Lock()
		if w.held == nil {
			w.held = map[string]string{}
		}
		for i, t := range tasks {
			out.Tasks[i] = workerTask(t, true)
			w.held[t.ID] = t.Token
		}
		w.mu.Unlock()
		if err := w.send(out); err != nil {
			return // released with the others when the stream ends
		}
	}
}
