// This file implements the Worker: the poll loop and graceful shutdown.

package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Handler executes one task. Its result is encoded with encoding/json
// (a json.RawMessage is sent as it is) and must have the task's result
// type; an error fails the attempt with its message. ctx ends when the
// lease is lost (cause [ErrLeaseLost]), at the attempt's deadline, or
// when a shutdown's drain time is up.
type Handler func(ctx context.Context, t *Task) (any, error)

// Options configure a [Worker]. Queue is required.
type Options struct {
	// Queue is the queue to poll: the name in the task's queue binding.
	Queue string
	// ID names the worker in the server's logs and errors; empty means
	// HOST-PID.
	ID string
	// Concurrency is how many tasks run at once; zero means 1.
	Concurrency int
	// PollWait is how long one long poll waits for a task; zero means
	// 20 seconds.
	PollWait time.Duration
	// Heartbeat is the interval between heartbeats of a running task;
	// zero means a third of the lease that the delivery carries.
	Heartbeat time.Duration
	// DrainTimeout bounds how long [Worker.Run] waits for the tasks in
	// flight once its context ends; then their handlers are cancelled and
	// the tasks failed, so that the engine retries them at once. Zero
	// means wait until they finish.
	DrainTimeout time.Duration
	// Batch makes a worker whose Conn is a [Batcher] (Remote is) report
	// its finished tasks and poll for all its free slots in one
	// CompleteAndPollTasks call, instead of one CompleteAndPollTask call
	// per task. It costs the server less per task when the calls carry
	// several tasks; on the shared 2-core benchmark machine its
	// throughput ranged from 0.4x to 1.8x the per-task calls', so it is
	// not the default.
	Batch bool
	// NoStream makes a worker whose Conn is a [Streamer] (Remote is)
	// use the unary calls instead of a WorkTasks stream. The stream,
	// the default, needs HTTP/2 (knhk serve speaks it in cleartext
	// too); a worker that cannot open one goes back to the unary calls
	// by itself. Batch, too, keeps to the (batched) unary calls.
	NoStream bool
	// Log receives the worker's messages; nil means slog.Default().
	Log *slog.Logger
}

// Worker polls one queue and runs a [Handler] for each task.
type Worker struct {
	conn Conn
	o    Options
	h    Handler
}

// New returns a worker that runs h for the tasks of o.Queue, polled
// through c.
func New(c Conn, o Options, h Handler) (*Worker, error) {
	if c == nil || h == nil {
		return nil, errors.New("worker: a connection and a handler are needed")
	}
	if o.Queue == "" {
		return nil, errors.New("worker: Options.Queue is empty; name the queue of the task's queue binding")
	}
	if o.ID == "" {
		host, _ := os.Hostname()
		o.ID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 1
	}
	if o.PollWait <= 0 {
		o.PollWait = 20 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	o.Log = o.Log.With("queue", o.Queue, "worker", o.ID)
	return &Worker{conn: c, o: o, h: h}, nil
}

// errShutdown is the cause of the handlers cancelled by a drain timeout.
var errShutdown = errors.New("worker shutting down")

// Run polls and runs tasks until ctx ends, then stops polling and waits
// for the tasks in flight (see [Options.DrainTimeout]). It returns nil
// after a shutdown; it never gives up on the server on its own, backing
// off between failed polls.
func (w *Worker) Run(ctx context.Context) error {
	// Tasks in flight outlive ctx: a shutdown lets them finish.
	base, abort := context.WithCancelCause(context.WithoutCancel(ctx))
	defer abort(nil)
	var wg sync.WaitGroup
	if s, ok := w.conn.(Streamer); ok && !w.o.NoStream && !w.o.Batch {
		err := w.runStream(ctx, base, abort, s, &wg)
		if !errors.Is(err, errUnstreamed) {
			return err
		}
	}
	if b, ok := w.conn.(Batcher); ok && w.o.Batch {
		err := w.runBatched(ctx, base, abort, b, &wg)
		if !errors.Is(err, errUnbatched) {
			wg.Wait()
			return err
		}
	}
	slots := make(chan struct{}, w.o.Concurrency)
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			continue
		}
		t, err := w.conn.PollTask(ctx, w.o.Queue, w.o.ID, w.o.PollWait)
		if err != nil || t == nil {
			<-slots
			if err != nil && ctx.Err() == nil {
				backoff = nextBackoff(backoff)
				w.o.Log.Warn("poll failed; retrying", "err", err, "in", backoff)
				sleep(ctx, backoff)
			}
			continue
		}
		backoff = 0
		wg.Go(func() {
			defer func() { <-slots }()
			w.handle(ctx, base, t)
		})
	}
	if w.o.DrainTimeout > 0 {
		stop := time.AfterFunc(w.o.DrainTimeout, func() { abort(errShutdown) })
		defer stop.Stop()
	}
	wg.Wait()
	return nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
