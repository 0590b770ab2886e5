// This file implements the streamed worker loop: with a [Streamer]
// Conn (Remote is one) a worker takes its tasks on one WorkTasks
// stream. It grants the server a credit per free slot; the server
// pushes a task as soon as one is pending and a credit is left, and
// each outcome goes back as one message with the credit it frees, so a
// task costs two small messages instead of a request and a response
// with their headers, and never waits for a poll.

package worker

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"

	"connectrpc.com/connect"
)

// Streamer is an optional interface of a [Conn]: OpenWork opens a
// WorkTasks stream taking tasks of queue. An error, or a [WorkStream]
// whose first Recv fails, says that the server cannot stream (an older
// server, HTTP/1.1 only), and a [Worker] uses the unary calls instead.
type Streamer interface {
	OpenWork(ctx context.Context, queue, workerID string) (WorkStream, error)
}

// WorkStream is one open WorkTasks stream. Send and CloseSend are
// called from one goroutine, Recv from another.
type WorkStream interface {
	// Send grants credits more tasks and reports done.
	Send(credits int, done []Outcome) error
	// Recv waits for the server's next message: tasks pushed, and the
	// server's word on outcomes sent. The first message may be empty:
	// the server accepted the stream.
	Recv() (tasks []*Task, acks []Ack, err error)
	// Stop takes back the credits not yet used: the server pushes no
	// more tasks, and the stream stays open for outcomes.
	Stop() error
	// CloseSend tells the server that nothing more will be sent; it
	// stops pushing, acknowledges what it was sent and ends the stream.
	CloseSend() error
	// Close releases the stream.
	Close() error
}

// Ack is the server's word on an outcome sent on a [WorkStream]: Err
// is nil when it was applied, wraps [ErrLeaseLost] when the task was no
// longer held, and is another error when it was not confirmed.
type Ack struct {
	ID  string
	Err error
}

// errUnstreamed ends runStream when the server cannot stream.
var errUnstreamed = errors.New("the server does not stream tasks")

// runStream is Run's loop over s: one stream after another until ctx
// ends, backing off after a stream breaks. It returns errUnstreamed,
// having started nothing, when the first stream cannot be opened.
func (w *Worker) runStream(ctx, base context.Context, abort context.CancelCauseFunc, s Streamer, wg *sync.WaitGroup) error {
	backoff := time.Duration(0)
	opened := false
	for ctx.Err() == nil {
		ok, err := w.stream(ctx, base, s, wg)
		if !ok && !opened && !unavailable(err) {
			if ctx.Err() == nil {
				w.o.Log.Info("the server does not stream tasks; one call per task", "err", err)
				return errUnstreamed
			}
			break
		}
		// A server that answered on a stream, or refused it for now,
		// streams: a later failure is retried on a stream.
		opened = true
		if ok {
			backoff = 0
		}
		if err != nil && ctx.Err() == nil {
			backoff = nextBackoff(backoff)
			w.o.Log.Warn("task stream broke; reopening", "err", err, "in", backoff)
			sleep(ctx, backoff)
		}
	}
	if w.o.DrainTimeout > 0 {
		stop := time.AfterFunc(w.o.DrainTimeout, func() { abort(errShutdown) })
		defer stop.Stop()
	}
	wg.Wait()
	return nil
}

// unavailable says whether err is the server's own word that it cannot
// serve the stream for now (a cluster without a leader, a leader that
// just stepped down): it does stream, so the worker backs off and opens
// the stream again rather than going back to one call per task.
func unavailable(err error) bool {
	return connect.IsWireError(err) && connect.CodeOf(err) == connect.CodeUnavailable
}

// received is one message of the server, or the end of the stream.
type received struct {
	tasks []*Task
	acks  []Ack
	err   error
}

// stream runs one stream until it ends and every task it delivered has
// been reported. ok says whether the server answered on it at all, err
// why it ended (nil when ctx ended first). An outcome the stream could
// not carry or confirm goes by the plain calls (refused there if it was
// applied after all).
func (w *Worker) stream(ctx, base context.Context, s Streamer, wg *sync.WaitGroup) (ok bool, err error) {
	sctx, cancel := context.WithCancel(context.WithoutCancel(base))
	defer cancel()
	st, err := s.OpenWork(sctx, w.o.Queue, w.o.ID)
	if err != nil {
		return false, err
	}
	defer st.Close()
	n := w.o.Concurrency
	if err := st.Send(n, nil); err != nil {
		return false, err
	}
	in := make(chan received, 1)
	go func() {
		for {
			tasks, acks, err := st.Recv()
			select {
			case in <- received{tasks, acks, err}:
			case <-sctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	outcomes := make(chan report, n) // at most n handlers: never blocks
	// One goroutine per slot runs the handlers, for the stream's life:
	// a goroutine per task grew a new stack for each.
	work := make(chan *Task, n)
	for range n {
		go func() {
			for t := range work {
				w.executeTo(base, t, outcomes)
			}
		}()
	}
	defer close(work) // every slot is idle by then
	var (
		running  int
		sent     = map[string]report{} // on the stream, not acknowledged
		open     = true                // the stream can carry outcomes
		ended    bool                  // the server ended the stream
		stop     = ctx.Done()
		stopping bool
	)
	plain := func(r report) { wg.Go(func() { w.send(base, r) }) }
	for !ended || running > 0 {
		if stopping && open && running == 0 && len(sent) == 0 {
			// Every task held is reported and confirmed: the server
			// ends the stream. One that never ends it does not hold
			// the shutdown up for longer than a final call would.
			open = false
			st.CloseSend()
			// Ending the stream's context does not end a Recv that is
			// waiting (Connect over HTTP/2); closing the stream does.
			defer time.AfterFunc(finalTimeout, func() { st.Close() }).Stop()
		}
		select {
		case m := <-in:
			if m.err != nil {
				ended, open = true, false
				if ctx.Err() == nil {
					err = m.err
				}
				for _, r := range sent {
					plain(r)
				}
				clear(sent)
				if !ok {
					cancel() // nothing was delivered on it
				}
				continue
			}
			ok = true
			for _, a := range m.acks {
				r, held := sent[a.ID]
				if !held {
					continue
				}
				delete(sent, a.ID)
				switch {
				case a.Err == nil:
				case errors.Is(a.Err, ErrLeaseLost):
					r.log().Warn("complete refused: the worker no longer holds the task", "err", a.Err)
				default:
					plain(r)
				}
			}
			for _, t := range m.tasks {
				running++
				select {
				case work <- t:
				default: // more than the credits granted: a slot of its own
					go w.executeTo(base, t, outcomes)
				}
			}
		case r := <-outcomes:
			running--
			if running > 0 {
				// Tasks pushed together often finish together: let
				// their handlers run first, so that their outcomes
				// share this message.
				runtime.Gosched()
			}
			// Report every outcome ready now in one message, each with
			// the credit its slot frees.
			batch := []report{r}
			for more := true; more; {
				select {
				case r := <-outcomes:
					running--
					batch = append(batch, r)
				default:
					more = false
				}
			}
			var done []Outcome
			for _, r := range batch {
				if r.t == nil {
					continue // lease lost: nothing to report
				}
				if !open {
					plain(r)
					continue
				}
				sent[r.t.ID] = r
				done = append(done, r.outcome())
			}
			if !open {
				continue
			}
			credits := len(batch)
			if stopping {
				credits = 0
			}
			if err := st.Send(credits, done); err != nil {
				// The stream broke: Recv sees it too and resends
				// what it carried.
				open = false
			}
		case <-stop:
			stop, stopping = nil, true
			if open && st.Stop() != nil {
				open = false // broken: Recv sees it too
			}
		}
	}
	return ok, err
}
