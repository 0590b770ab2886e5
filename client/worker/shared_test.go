package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/knhk/knhk/client"
	"github.com/knhk/knhk/client/worker"
)

// fleet is n workers of queue "steps" against a test server, each
// adding one to its input and counting its runs by attempt ID; on a
// first step (an input that is a multiple of ten) a worker sends its ID
// to started and waits for gate to close.
type fleet struct {
	v       *served
	gate    chan struct{}
	started chan string
	mu      sync.Mutex
	runs    map[string]int
	stops   []func() // each worker's: ends its Run and waits for it
}

// newFleet runs n workers of slots each, over one Remote if share is
// set and a Remote each if not.
func newFleet(t *testing.T, n, slots int, share bool) *fleet {
	t.Helper()
	f := &fleet{v: serve(t, true), gate: make(chan struct{}), started: make(chan string, 64), runs: map[string]int{}}
	conn := worker.Remote(client.New(f.v.ts.URL).API())
	for i := range n {
		if !share {
			conn = worker.Remote(client.New(f.v.ts.URL).API())
		}
		id := fmt.Sprint("w", i)
		w, err := worker.New(conn, worker.Options{Queue: "steps", ID: id, Concurrency: slots,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, func(ctx context.Context, task *worker.Task) (any, error) {
			var in struct{ N int }
			if err := json.Unmarshal(task.Input, &in); err != nil {
				return nil, err
			}
			f.mu.Lock()
			f.runs[task.ID]++
			f.mu.Unlock()
			if in.N%10 == 0 {
				f.started <- id
				<-f.gate
			}
			return in.N + 1, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		f.stops = append(f.stops, runUntilStopped(t, w, id))
	}
	return f
}

// cases runs n cases of Two in the background; the channel closes when
// they all ended with their results.
func (f *fleet) cases(t *testing.T, n int) chan struct{} {
	finished := make(chan struct{})
	go func() { defer close(finished); runCases(t, f.v, n, nil) }()
	return finished
}

// waitStarted waits for n first steps to start and counts them by
// worker.
func (f *fleet) waitStarted(t *testing.T, n int) map[string]int {
	t.Helper()
	first := map[string]int{}
	for range n {
		select {
		case id := <-f.started:
			first[id]++
		case <-time.After(30 * time.Second):
			t.Fatalf("first steps running: %v, want %d", first, n)
		}
	}
	return first
}

// stop stops every worker still running and checks that want task
// attempts ran, each once.
func (f *fleet) stop(t *testing.T, want int) {
	for _, stop := range f.stops {
		if stop != nil {
			stop()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	onceEach(t, f.runs, want)
}

// shareTheLoad runs four cases on two workers of two slots, sharing a
// stream if share is set, and checks that each worker ran two first
// steps at once, that every case ended with its result, each attempt
// run once, and that the workers opened one stream if they share and
// two if not.
func shareTheLoad(t *testing.T, share bool) {
	const workers, slots = 2, 2
	f := newFleet(t, workers, slots, share)
	finished := f.cases(t, workers*slots)
	first := f.waitStarted(t, workers*slots)
	for i := range workers {
		if id := fmt.Sprint("w", i); first[id] != slots {
			t.Errorf("first steps by worker = %v, want %d on each", first, slots)
		}
	}
	close(f.gate)
	<-finished
	f.stop(t, 2*workers*slots)
	want := workers
	if share {
		want = 1
	}
	if n := f.v.calls("WorkTasks"); n != want {
		t.Errorf("%d WorkTasks streams, want %d (shared: %v)", n, want, share)
	}
}

// TestSharedStream: the workers of one Remote on one queue take their
// tasks on one WorkTasks stream, each never more at once than its
// slots (two workers of two slots run four first steps two and two),
// and every case ends with its result, each attempt run once.
func TestSharedStream(t *testing.T) { shareTheLoad(t, true) }

// TestSharedStreamOneStops: a worker of a shared stream shut down while
// its tasks run reports them and Run returns while the other goes on;
// the other finishes every case, and no attempt runs twice.
func TestSharedStreamOneStops(t *testing.T) {
	f := newFleet(t, 2, 2, true)
	finished := f.cases(t, 8)
	f.waitStarted(t, 4)
	stopped := make(chan struct{})
	go func() { defer close(stopped); f.stops[0]() }()
	close(f.gate)
	<-stopped
	f.stops[0] = nil
	select {
	case <-finished:
	case <-time.After(60 * time.Second):
		t.Fatal("the cases did not finish with one worker left")
	}
	f.stop(t, 16)
}

// TestSharedStreamRoom: workers whose slots together pass what one
// stream may be granted (256) take their tasks on two streams.
func TestSharedStreamRoom(t *testing.T) {
	f := newFleet(t, 3, 100, true)
	close(f.gate)
	<-f.cases(t, 6)
	f.stop(t, 12)
	if n := f.v.calls("WorkTasks"); n != 2 {
		t.Errorf("%d WorkTasks streams for 300 slots, want 2", n)
	}
}
