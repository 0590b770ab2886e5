package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/internal/dircopy"
	"github.com/knhk/knhk/runtime/store"
)

const threeSrc = `package three

task step(n: int) -> int queue "steps"

// work answers 7 once the file GATE exists.
task work(n: int) -> int exec "sh" "-c" "cat >/dev/null; while [ ! -e GATE ]; do sleep 0.01; done; echo 7"

workflow Three(n: int) -> int {
  let a = step(n)
  let b = step(a + 1)
  let c = step(b + 1)
  return c
}

workflow Inc(n: int) -> int {
  return n + 1
}

workflow Mixed(n: int) -> int {
  let a = work(n)
  let b = step(a)
  return b
}

workflow Gated(n: int) -> int {
  select {
    on signal Go(m: int) -> {
      let x = step(n + m)
      return x
    }
  }
}
`

// serveH2CAt is serveH2C over a Service on dir with o.
func serveH2CAt(t *testing.T, dir string, o Options) (*Service, knhkv1connect.KnhkServiceClient, func()) {
	t.Helper()
	s, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(NewMux(s, MuxOptions{}))
	ts.Config.Protocols = new(http.Protocols)
	ts.Config.Protocols.SetHTTP1(true)
	ts.Config.Protocols.SetUnencryptedHTTP2(true)
	ts.Start()
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	var once sync.Once
	stop := func() {
		once.Do(func() {
			tr.CloseIdleConnections()
			ts.CloseClientConnections()
			ts.Close()
			closeSvc(t, s)
		})
	}
	t.Cleanup(stop)
	return s, knhkv1connect.NewKnhkServiceClient(&http.Client{Transport: tr}, ts.URL), stop
}

// streamLog is a raw WorkTasks stream whose messages a goroutine
// collects: the tasks pushed and the outcomes acknowledged.
type streamLog struct {
	st    *connect.BidiStreamForClient[knhkv1.WorkTasksRequest, knhkv1.WorkTasksResponse]
	mu    sync.Mutex
	tasks []*knhkv1.WorkerTask
	acks  []*knhkv1.OutcomeAck
	more  chan struct{}
}

func openStreamLog(t *testing.T, ctx context.Context, api knhkv1connect.KnhkServiceClient, credits int32) *streamLog {
	t.Helper()
	l := &streamLog{st: api.WorkTasks(ctx), more: make(chan struct{}, 1)}
	t.Cleanup(func() { l.st.CloseRequest(); l.st.CloseResponse() })
	if err := l.st.Send(&knhkv1.WorkTasksRequest{Queue: "steps", Worker: "w", Credits: credits}); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			m, err := l.st.Receive()
			if err != nil {
				return
			}
			l.mu.Lock()
			l.tasks = append(l.tasks, m.GetTasks()...)
			l.acks = append(l.acks, m.GetAcks()...)
			l.mu.Unlock()
			select {
			case l.more <- struct{}{}:
			default:
			}
		}
	}()
	return l
}

// task waits for the nth task pushed (from 0), at most a minute.
func (l *streamLog) task(t *testing.T, n int, why string) *knhkv1.WorkerTask {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		l.mu.Lock()
		if len(l.tasks) > n {
			w := l.tasks[n]
			l.mu.Unlock()
			return w
		}
		l.mu.Unlock()
		select {
		case <-l.more:
		case <-deadline:
			t.Fatalf("task %d never came: %s", n+1, why)
		}
	}
}

// nonePushed fails the test if a task is pushed within a few ack
// delays: a step decided in memory whose task went out early would be
// here by then. what names the record the tasks must wait for.
func (l *streamLog) nonePushed(t *testing.T, what string) {
	t.Helper()
	time.Sleep(5 * ackDelay)
	l.mu.Lock()
	pushed := len(l.tasks)
	l.mu.Unlock()
	if pushed != 0 {
		t.Fatalf("%d tasks pushed before %s was durable", pushed, what)
	}
}

// acked lists the ids acknowledged so far.
func (l *streamLog) acked() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ids []string
	for _, a := range l.acks {
		ids = append(ids, a.GetId())
	}
	return ids
}

// complete answers task w with its input plus one.
func (l *streamLog) complete(t *testing.T, w *knhkv1.WorkerTask) {
	t.Helper()
	var in struct{ N int }
	if err := json.Unmarshal([]byte(w.GetInputJson()), &in); err != nil {
		t.Fatal(err)
	}
	o := &knhkv1.TaskOutcome{Id: w.GetId(), Token: w.GetToken(), Outcome: &knhkv1.TaskOutcome_ResultJson{ResultJson: fmt.Sprint(in.N + 1)}}
	if err := l.st.Send(&knhkv1.WorkTasksRequest{Outcomes: []*knhkv1.TaskOutcome{o}, Credits: 1}); err != nil {
		t.Fatal(err)
	}
}

// commitHold holds a store's committer on demand: hold makes the next
// group commit block once it is durable (a start of workflow Inc, a
// case of no tasks, is committed for it), so that every batch after it
// waits unwritten, as in a crash that comes before their fsync; free
// lets it go on.
type commitHold struct {
	arm              atomic.Bool
	blocked, release chan struct{}
	once, freed      sync.Once
}

func newCommitHold() *commitHold {
	return &commitHold{blocked: make(chan struct{}), release: make(chan struct{})}
}

// onCommit is the store's OnCommit.
func (h *commitHold) onCommit(store.CommitInfo) {
	if h.arm.Load() {
		h.once.Do(func() { close(h.blocked); <-h.release })
	}
}

// hold starts a case of Inc on s and returns once its commit blocks.
func (h *commitHold) hold(ctx context.Context, s *Service) {
	h.arm.Store(true)
	go s.Start(ctx, StartRequest{Workflow: "Inc", Input: []byte("1")})
	<-h.blocked
}

func (h *commitHold) free() { h.freed.Do(func() { close(h.release) }) }

// heldCase is a server on dir whose committer a commitHold holds, with
// threeSrc deployed and a case of workflow started with input.
type heldCase struct {
	h    *commitHold
	s    *Service
	api  knhkv1connect.KnhkServiceClient
	stop func()
	id   string
}

func startHeld(t *testing.T, ctx context.Context, dir string, noPark bool, workflow, input string) heldCase {
	t.Helper()
	return startHeldSrc(t, ctx, dir, noPark, threeSrc, workflow, input)
}

// startHeldSrc is startHeld with src instead of threeSrc.
func startHeldSrc(t *testing.T, ctx context.Context, dir string, noPark bool, src, workflow, input string) heldCase {
	t.Helper()
	c := heldCase{h: newCommitHold()}
	c.s, c.api, c.stop = serveH2CAt(t, dir, Options{IndexEvery: -1, NoPark: noPark, Store: store.Options{OnCommit: c.h.onCommit}})
	t.Cleanup(c.h.free) // before the server's close, which waits for the committer
	if _, err := c.s.Deploy("three.knhk", []byte(src), nil); err != nil {
		t.Fatal(err)
	}
	var err error
	if c.id, _, err = c.s.Start(ctx, StartRequest{Workflow: workflow, Input: []byte(input)}); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEarlyDispatchCrash crashes a server between the early dispatch of
// a task and the commit that scheduled it. The store's committer is
// held (a commit of another case blocks in OnCommit), so the outcome of
// task 1 and the scheduling of task 2 stay in memory: task 2 is pushed
// to the worker all the same, and the worker completes it, but neither
// completion is acknowledged. A copy of the data directory taken then is
// what a crash leaves. A server opened on it delivers task 1 again under
// the same idempotency key, refuses the old lease's completion, then
// delivers task 2 under the key the worker saw before the crash; the
// case ends with the right result and each task's outcome once in its
// history.
func TestEarlyDispatchCrash(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	c := startHeld(t, ctx, dir, false, "Three", "0")
	h, s, api, stop, id := c.h, c.s, c.api, c.stop, c.id
	w := openStreamLog(t, ctx, api, 1)
	t1 := w.task(t, 0, "the first task")
	h.hold(ctx, s)
	w.complete(t, t1)
	t2 := w.task(t, 1, "early dispatch: task 2 is pushed while its scheduling commit waits")
	w.complete(t, t2)
	w.task(t, 2, "early dispatch: task 3 is pushed while its scheduling commit waits")
	// An ack is at most ackDelay behind: give a wrong one time to come.
	time.Sleep(5 * ackDelay)
	if acks := w.acked(); len(acks) != 0 {
		t.Fatalf("outcomes acknowledged before their commit was durable: %v", acks)
	}
	crashed := t.TempDir()
	if err := dircopy.Copy(dir, crashed); err != nil {
		t.Fatal(err)
	}
	h.free()
	stop()

	s2, api2, _ := serveH2CAt(t, crashed, Options{IndexEvery: -1})
	w2 := openStreamLog(t, ctx, api2, 1)
	r1 := w2.task(t, 0, "task 1 again after the crash")
	if r1.GetId() != t1.GetId() {
		t.Fatalf("task 1 came back as %s, before the crash it was %s: the idempotency key changed", r1.GetId(), t1.GetId())
	}
	// The first server's lease is void: its completion is refused.
	if _, err := api2.CompleteTask(ctx, connect.NewRequest(&knhkv1.CompleteTaskRequest{Id: t1.GetId(), Token: t1.GetToken(), ResultJson: "1"})); err == nil {
		t.Fatal("a completion under the crashed server's lease was accepted")
	}
	w2.complete(t, r1)
	r2 := w2.task(t, 1, "task 2 after the crash")
	if r2.GetId() != t2.GetId() || r2.GetInputJson() != t2.GetInputJson() {
		t.Fatalf("task 2 came back as %s %s, before the crash it was %s %s", r2.GetId(), r2.GetInputJson(), t2.GetId(), t2.GetInputJson())
	}
	w2.complete(t, r2)
	w2.complete(t, w2.task(t, 2, "task 3 after the crash"))
	sum, done, err := s2.Wait(ctx, id, false)
	if err != nil || !done || sum.Status != "completed" || sum.Result != "5" {
		t.Fatalf("case after the crash: %+v %v %v, want completed with 5", sum, done, err)
	}
	hist, _, err := s2.History(ctx, id, 0, 1000, true)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range hist {
		if e.Kind == "done" {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("%d task outcomes in the history, want 3 (one per task): %+v", n, hist)
	}
}

// TestEarlyDispatchWaitsForSignal: a task that a signal enables is not
// dispatched before the signal is durable. Unlike a task's outcome, a
// signal lost in a crash is not derived again (its sender was never
// answered and may not send it again), so the task's worker would have
// run a step that never happened. Both with the waiting case held in
// memory and parked (rehydrated by the signal).
func TestEarlyDispatchWaitsForSignal(t *testing.T) {
	for _, noPark := range []bool{true, false} {
		t.Run(fmt.Sprintf("NoPark=%v", noPark), func(t *testing.T) { earlySignal(t, noPark) })
	}
}

func earlySignal(t *testing.T, noPark bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := startHeld(t, ctx, t.TempDir(), noPark, "Gated", "1")
	h, s, api, id := c.h, c.s, c.api, c.id
	w := openStreamLog(t, ctx, api, 1)
	h.hold(ctx, s)
	signalled := make(chan error, 1)
	go func() {
		_, err := s.Signal(ctx, id, "Go", []byte(`{"m": 2}`))
		signalled <- err
	}()
	// The signal's step is decided in memory at once.
	w.nonePushed(t, "the signal that enabled them")
	h.free()
	// The signal's call runs the case on, to the task's outcome.
	w.complete(t, w.task(t, 0, "the task the signal enabled, once it is durable"))
	if err := <-signalled; err != nil {
		t.Fatal(err)
	}
	sum, done, err := s.Wait(ctx, id, false)
	if err != nil || !done || sum.Status != "completed" || sum.Result != "4" {
		t.Fatalf("case: %+v %v %v, want completed with 4", sum, done, err)
	}
}

// TestEarlyDispatchWaitsForExecOutcome: a queue task that follows an
// exec task waits for the exec task's outcome to be durable. A crash
// that lost the outcome would run the exec task again, which need not
// answer the same, and the queue task would go out again under the same
// idempotency key with other input.
func TestEarlyDispatchWaitsForExecOutcome(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	gate := filepath.Join(t.TempDir(), "gate")
	src := strings.ReplaceAll(threeSrc, "GATE", gate)
	c := startHeldSrc(t, ctx, t.TempDir(), true, src, "Mixed", "1")
	w := openStreamLog(t, ctx, c.api, 1)
	c.h.hold(ctx, c.s)
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The exec task ends at once now, and the queue task's step is
	// decided in memory.
	w.nonePushed(t, "the exec task's outcome that they follow")
	c.h.free()
	w.complete(t, w.task(t, 0, "the queue task, once the exec task's outcome is durable"))
	sum, done, err := c.s.Wait(ctx, c.id, false)
	if err != nil || !done || sum.Status != "completed" || sum.Result != "8" {
		t.Fatalf("case: %+v %v %v, want completed with 8", sum, done, err)
	}
}
