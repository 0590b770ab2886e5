package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/client"
	"github.com/knhk/knhk/client/worker"
	"github.com/knhk/knhk/server"
)

const twoSteps = `package two

task step(n: int) -> int queue "steps"

workflow Two(n: int) -> int {
  let a = step(n)
  let b = step(a + 1)
  return b
}
`

// served is knhk serve's API in a test, counting the calls by method.
type served struct {
	s   *server.Service
	ts  *httptest.Server
	mu  sync.Mutex
	per map[string]int
}

func (v *served) calls(m string) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.per[m]
}

// serve opens a Service with twoSteps deployed; h2c says whether it
// speaks HTTP/2 cleartext beside HTTP/1.1, as knhk serve does.
func serve(t *testing.T, h2c bool) *served {
	t.Helper()
	s, err := server.Open(t.TempDir(), server.Options{IndexEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Deploy("two.knhk", []byte(twoSteps), nil); err != nil {
		t.Fatal(err)
	}
	v := &served{s: s, per: map[string]int{}}
	mux := server.NewMux(s, server.MuxOptions{})
	v.ts = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v.mu.Lock()
		v.per[r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]]++
		v.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	if h2c {
		v.ts.Config.Protocols = new(http.Protocols)
		v.ts.Config.Protocols.SetHTTP1(true)
		v.ts.Config.Protocols.SetUnencryptedHTTP2(true)
	}
	v.ts.Start()
	t.Cleanup(func() {
		v.ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return v
}

// runCases starts n cases of Two and checks that each ends with n+3
// (each step adds one), while fault runs, if set, once the first case
// ended.
func runCases(t *testing.T, v *served, n int, fault func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := client.New(v.ts.URL)
	ids := make([]string, n)
	for i := range n {
		r, err := c.Start(ctx, &knhkv1.StartCaseRequest{Workflow: "Two", InputJson: fmt.Sprint(10 * i)})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = r.CaseId
	}
	for i, id := range ids {
		sum, err := c.Wait(ctx, id)
		for try := 0; err != nil && fault != nil && try < 3; try++ {
			sum, err = c.Wait(ctx, id) // the fault may break this call too
		}
		if err != nil {
			t.Fatal(err)
		}
		if sum.Status != "completed" || sum.ResultJson != fmt.Sprint(10*i+3) {
			t.Errorf("case %d: %s %s %s, want completed %d", i, sum.Status, sum.ResultJson, sum.Error, 10*i+3)
		}
		if i == 0 && fault != nil {
			fault()
		}
	}
}

// startWorker runs a worker of queue "steps" adding one to its input
// over the API at v, and returns a stop that waits for Run to return.
// Inputs of 100 and more wait for gate, if set, to close.
func startWorker(t *testing.T, v *served, o worker.Options, gate ...chan struct{}) func() {
	t.Helper()
	o.Queue, o.ID, o.Log = "steps", "w", slog.New(slog.NewTextHandler(io.Discard, nil))
	w, err := worker.New(worker.Remote(client.New(v.ts.URL).API()), o, func(ctx context.Context, t *worker.Task) (any, error) {
		var in struct{ N int }
		if err := json.Unmarshal(t.Input, &in); err != nil {
			return nil, err
		}
		if in.N >= 100 && len(gate) > 0 {
			<-gate[0]
		}
		return in.N + 1, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return runUntilStopped(t, w, o.ID)
}

// runUntilStopped runs w, named id in errors, and returns a stop that
// ends its context and waits for Run to return.
func runUntilStopped(t *testing.T, w *worker.Worker, id string) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	return func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run of %s: %v", id, err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("Run of %s did not return after the shutdown", id)
		}
	}
}

// TestStreamWorker: against a server that speaks HTTP/2 cleartext, a
// worker takes and reports every task on a WorkTasks stream, with no
// unary task call, and every case ends with its result.
func TestStreamWorker(t *testing.T) {
	v := serve(t, true)
	stop := startWorker(t, v, worker.Options{Concurrency: 4})
	runCases(t, v, 20, nil)
	stop()
	if n := v.calls("WorkTasks"); n != 1 {
		t.Errorf("%d WorkTasks streams, want 1", n)
	}
	for _, m := range []string{"PollTask", "CompleteAndPollTask", "CompleteTask", "FailTask", "CompleteAndPollTasks"} {
		if n := v.calls(m); n != 0 {
			t.Errorf("%d %s calls beside the stream", n, m)
		}
	}
}

// TestStreamFallback: against a server over HTTP/1.1 only, the worker
// goes back to the unary calls (its HTTP/2 preface is refused before
// any handler); with NoStream it never tries.
func TestStreamFallback(t *testing.T) {
	v := serve(t, false)
	stop := startWorker(t, v, worker.Options{Concurrency: 2})
	runCases(t, v, 5, nil)
	stop()
	if v.calls("CompleteAndPollTask")+v.calls("CompleteTask") < 10 {
		t.Errorf("unary calls: %v, want one per task", v.per)
	}

	v = serve(t, true)
	stop = startWorker(t, v, worker.Options{Concurrency: 2, NoStream: true})
	runCases(t, v, 3, nil)
	stop()
	if n := v.calls("WorkTasks"); n != 0 {
		t.Errorf("NoStream: %d WorkTasks streams", n)
	}
}

// TestStreamBreaks: the server drops every connection while cases
// wait for their tasks (held by the worker's handlers or pending); the
// worker reopens its stream, the tasks pushed on the broken one go back
// to the queue without waiting for their leases, what the worker then
// reports for them by plain calls is refused or applied once, and no
// case is lost or gets a wrong result.
func TestStreamBreaks(t *testing.T) {
	v := serve(t, true)
	gate := make(chan struct{}) // cases 10 to 29 wait for the break
	stop := startWorker(t, v, worker.Options{Concurrency: 4}, gate)
	runCases(t, v, 30, func() { v.ts.CloseClientConnections(); close(gate) })
	stop()
	if n := v.calls("WorkTasks"); n < 2 {
		t.Errorf("%d WorkTasks streams, want a second one after the break", n)
	}
}

// TestStreamShutdown: a worker shut down while its handlers run stops
// taking tasks, reports the running ones on its stream once they end
// (the server does not hand them to anyone else meanwhile), and Run
// returns; a second worker finishes the cases, and no task attempt is
// executed twice.
func TestStreamShutdown(t *testing.T) {
	v := serve(t, true)
	var mu sync.Mutex
	runs := map[string]int{}
	gate := make(chan struct{})
	started := make(chan struct{}, 8)
	handler := func(wait bool) worker.Handler {
		return func(ctx context.Context, task *worker.Task) (any, error) {
			mu.Lock()
			runs[task.ID]++
			mu.Unlock()
			if wait {
				started <- struct{}{}
				<-gate
			}
			var in struct{ N int }
			if err := json.Unmarshal(task.Input, &in); err != nil {
				return nil, err
			}
			return in.N + 1, nil
		}
	}
	newWorker := func(h worker.Handler) *worker.Worker {
		w, err := worker.New(worker.Remote(client.New(v.ts.URL).API()), worker.Options{Queue: "steps", ID: "w", Concurrency: 2,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, h)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- newWorker(handler(true)).Run(ctx) }()
	finished := make(chan struct{})
	go func() { defer close(finished); runCases(t, v, 2, nil) }()
	for range 2 {
		select {
		case <-started:
		case <-time.After(30 * time.Second):
			t.Fatal("the first tasks never started")
		}
	}
	cancel()
	close(gate)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after the shutdown")
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	go newWorker(handler(false)).Run(ctx2)
	<-finished
	mu.Lock()
	defer mu.Unlock()
	onceEach(t, runs, 4)
}

// onceEach checks that want task attempts ran, each once: runs counts
// the runs by attempt ID.
func onceEach(t *testing.T, runs map[string]int, want int) {
	t.Helper()
	if len(runs) != want {
		t.Errorf("%d task attempts run, want %d: %v", len(runs), want, runs)
	}
	for id, n := range runs {
		if n != 1 {
			t.Errorf("attempt %s ran %d times", id, n)
		}
	}
}

// TestStreamWorkersShareTheLoad: the server hands a task to the worker
// that asked last, but never more than its slots hold, so that with
// more tasks running than one worker has slots, every worker on the
// queue has its share: two workers of two slots each, on streams of
// their own, run four tasks two and two, and every case ends with its
// result.
func TestStreamWorkersShareTheLoad(t *testing.T) {
	shareTheLoad(t, false)
}
