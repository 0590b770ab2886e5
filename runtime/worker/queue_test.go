// This file tests queue tasks end to end: source checked and compiled,
// a case run on the engine, and external workers on a queue.Broker.

package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/queue"
)

// payProgram has a queue task with the given clauses.
func payProgram(t *testing.T, clauses string) *ir.Program {
	t.Helper()
	src := `package billing

type Receipt = { id: string, cents: int }

task charge(amount: int, who: string) -> Receipt queue "billing" ` + clauses + `

workflow Pay(amount: int) -> string {
  let r = charge(amount, "ann")
  return r.id
}
`
	return compileSource(t, "pay.knhk", src)
}

// compileSource checks and compiles src as file name, failing the test
// on any error.
func compileSource(t *testing.T, name, src string) *ir.Program {
	t.Helper()
	pkg, info, diags := check.CheckSource(name, []byte(src), &check.Config{})
	if diags.HasErrors() {
		t.Fatalf("check: %v", diags)
	}
	p, ld := compiler.Build(pkg, info)
	if ld.HasErrors() {
		t.Fatalf("build: %v", ld)
	}
	return p
}

// queueCase starts case id of Pay(amount) on an engine whose worker
// submits to b, and returns a channel with Start's error once the case
// waits or ends.
func queueCase(t *testing.T, p *ir.Program, b Broker, id string, amount int64) (*engine.Engine, <-chan error) {
	t.Helper()
	return startPay(t, engine.Config{Program: p, Eval: &host.Evaluator{},
		Worker: New(p, Options{Queue: b}), Log: engine.NewMemLog()}, id, amount)
}

// startPay starts case id of Pay on an engine configured by cfg and
// returns a channel with Start's error once the case waits or ends.
func startPay(t *testing.T, cfg engine.Config, id string, amount int64) (*engine.Engine, <-chan error) {
	t.Helper()
	eng, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- eng.Start(context.Background(), id, "Pay", []any{amount}) }()
	return eng, errc
}

// completeAsync completes tk with result in the background and returns a
// channel with the broker's answer.
func completeAsync(b *queue.Broker, tk queue.Task, result string) <-chan error {
	acked := make(chan error, 1)
	go func() { acked <- b.Complete(context.Background(), tk.ID, tk.Token, json.RawMessage(result)) }()
	return acked
}

// pollOne polls the billing queue for at most 10 seconds.
func pollOne(t *testing.T, b *queue.Broker, worker string) queue.Task {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tk, err := b.Poll(ctx, "billing", worker)
	if err != nil {
		t.Fatalf("%s: poll: %v", worker, err)
	}
	return tk
}

// finished waits for Start and returns the case's state.
func finished(t *testing.T, eng *engine.Engine, errc <-chan error, id string) *engine.State {
	t.Helper()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("start: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("case did not finish")
	}
	s, err := eng.Snapshot(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestQueueRoundTrip(t *testing.T) {
	b := queue.New(queue.Options{})
	eng, errc := queueCase(t, payProgram(t, ""), b, "c1", 1250)
	tk := pollOne(t, b, "w1")
	if tk.Task != "charge" || tk.CaseID != "c1" || tk.Attempt != 1 || string(tk.Input) != `{"amount":1250,"who":"ann"}` {
		t.Fatalf("delivery = %+v", tk)
	}
	if !strings.Contains(tk.ID, "c1") || !strings.HasSuffix(tk.ID, "/1") {
		t.Errorf("task ID %q is not the engine's idempotency key", tk.ID)
	}
	if err := b.Complete(context.Background(), tk.ID, tk.Token, json.RawMessage(`{"id":"rcpt-9","cents":1250}`)); err != nil {
		t.Fatal(err)
	}
	s := finished(t, eng, errc, "c1")
	if s.Status != engine.Completed || s.Result != eval.Str("rcpt-9") {
		t.Fatalf("case = %v %v %q", s.Status, s.Result, s.Error)
	}
}

// TestQueueWorkerDiesLeaseExpiryRetries: the first worker takes the task
// and dies; its lease runs out, which fails attempt 1, and the retry
// clause gives attempt 2 (a new ID) to a second worker. The dead
// worker's late completion is refused and changes nothing.
func TestQueueWorkerDiesLeaseExpiryRetries(t *testing.T) {
	b := queue.New(queue.Options{Lease: 50 * time.Millisecond})
	eng, errc := queueCase(t, payProgram(t, "retry 2"), b, "c1", 7)
	dead := pollOne(t, b, "w-dies")
	next := pollOne(t, b, "w-lives") // blocks until the lease expired
	if next.Attempt != 2 || next.ID == dead.ID {
		t.Fatalf("second delivery = attempt %d id %q, want attempt 2 with a new ID (first %q)", next.Attempt, next.ID, dead.ID)
	}
	if err := b.Complete(context.Background(), next.ID, next.Token, json.RawMessage(`{"id":"second","cents":7}`)); err != nil {
		t.Fatal(err)
	}
	s := finished(t, eng, errc, "c1")
	err := b.Complete(context.Background(), dead.ID, dead.Token, json.RawMessage(`{"id":"late","cents":7}`))
	if !errors.Is(err, queue.ErrLeaseLost) {
		t.Fatalf("late completion = %v, want ErrLeaseLost", err)
	}
	if s.Status != engine.Completed || s.Result != eval.Str("second") {
		t.Fatalf("case = %v %v %q", s.Status, s.Result, s.Error)
	}
	if st := b.Stats(); st[0].Expired != 1 || st[0].Completed != 1 {
		t.Fatalf("stats = %+v", st)
	}
}

// TestQueueLeaseExpiryWithoutRetryFailsCase: with no retry clause, the
// expired lease is the last attempt, and the case says why.
func TestQueueLeaseExpiryWithoutRetryFailsCase(t *testing.T) {
	b := queue.New(queue.Options{Lease: 30 * time.Millisecond})
	eng, errc := queueCase(t, payProgram(t, ""), b, "c1", 7)
	pollOne(t, b, "w1")
	s := finished(t, eng, errc, "c1")
	want := `task charge on queue "billing": lease expired: worker w1 held it for 30ms without a heartbeat`
	if s.Status != engine.Failed || !strings.Contains(s.Error, want) {
		t.Fatalf("case = %v %q, want failed with %q", s.Status, s.Error, want)
	}
}

// TestQueueBadResultLikeExec: a mistyped result fails the attempt with
// the exec task's message, word for word, and the worker is told.
func TestQueueBadResultLikeExec(t *testing.T) {
	const bad = `{"id":"x","cents":"seven"}`
	p := payProgram(t, "")
	// The exec task's message for the same standard output.
	ex := *p.Tasks[0]
	ex.Binding = ir.Binding{Kind: ir.BindExec, Target: "sh", Args: []string{"-c", "cat >/dev/null; echo '" + bad + "'"}}
	_, execErr := New(p, Options{}).Invoke(context.Background(), engine.Invocation{CaseID: "c", Attempt: 1, IdempotencyKey: "k", Task: &ex, Args: eval.Values(int64(1), "ann")})
	if execErr == nil {
		t.Fatal("exec accepted a mistyped result")
	}

	b := queue.New(queue.Options{})
	eng, errc := queueCase(t, p, b, "c1", 7)
	tk := pollOne(t, b, "w1")
	err := b.Complete(context.Background(), tk.ID, tk.Token, json.RawMessage(bad))
	if !errors.Is(err, queue.ErrBadResult) || !strings.Contains(err.Error(), execErr.Error()) {
		t.Fatalf("worker told %v, want ErrBadResult with %q", err, execErr)
	}
	s := finished(t, eng, errc, "c1")
	if s.Status != engine.Failed || !strings.Contains(s.Error, execErr.Error()) {
		t.Fatalf("case = %v %q, want failed with %q", s.Status, s.Error, execErr)
	}
}

// TestQueueFailRetriesThenFailsCase: a worker's Fail is a failed attempt;
// after the retries the case fails with the worker's message.
func TestQueueFailRetriesThenFailsCase(t *testing.T) {
	b := queue.New(queue.Options{})
	eng, errc := queueCase(t, payProgram(t, "retry 1"), b, "c1", 7)
	for attempt := 1; attempt <= 2; attempt++ {
		tk := pollOne(t, b, "w1")
		if tk.Attempt != attempt {
			t.Fatalf("delivery %d is attempt %d", attempt, tk.Attempt)
		}
		if err := b.Fail(context.Background(), tk.ID, tk.Token, fmt.Sprintf("card declined (%d)", attempt)); err != nil {
			t.Fatal(err)
		}
		if err := b.Fail(context.Background(), tk.ID, tk.Token, "again"); !errors.Is(err, queue.ErrFinished) {
			t.Fatalf("second fail = %v, want ErrFinished", err)
		}
	}
	s := finished(t, eng, errc, "c1")
	if s.Status != engine.Failed || !strings.Contains(s.Error, "worker w1 failed it: card declined (2)") {
		t.Fatalf("case = %v %q", s.Status, s.Error)
	}
}

// TestQueueTimeoutWithdraws: the task's timeout clause ends the attempt
// even while the worker heartbeats; the worker then loses its lease.
func TestQueueTimeoutWithdraws(t *testing.T) {
	b := queue.New(queue.Options{})
	eng, errc := queueCase(t, payProgram(t, "timeout 50ms"), b, "c1", 7)
	tk := pollOne(t, b, "w1")
	if tk.Deadline.IsZero() {
		t.Error("the delivery does not carry the timeout's deadline")
	}
	s := finished(t, eng, errc, "c1")
	if s.Status != engine.Failed || !strings.Contains(s.Error, "timed out after 50ms") {
		t.Fatalf("case = %v %q", s.Status, s.Error)
	}
	if _, err := b.Heartbeat(context.Background(), tk.ID, tk.Token); !errors.Is(err, queue.ErrLeaseLost) {
		t.Fatalf("heartbeat after the timeout = %v, want ErrLeaseLost", err)
	}
}

// TestQueueWorkersShareLoad runs 40 cases against 4 workers on one queue:
// every case completes with its own result and the work is spread.
func TestQueueWorkersShareLoad(t *testing.T) {
	b := queue.New(queue.Options{})
	p := payProgram(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	by := map[string]int{}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		name := fmt.Sprintf("w%d", i)
		wg.Go(func() {
			for {
				tk, err := b.Poll(ctx, "billing", name)
				if err != nil {
					return
				}
				var in struct{ Amount int }
				json.Unmarshal(tk.Input, &in)
				mu.Lock()
				by[name]++
				mu.Unlock()
				time.Sleep(2 * time.Millisecond)
				res := fmt.Sprintf(`{"id":"r%d","cents":%d}`, in.Amount, in.Amount)
				if err := b.Complete(ctx, tk.ID, tk.Token, json.RawMessage(res)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	const n = 40
	engs := make([]*engine.Engine, n)
	errcs := make([]<-chan error, n)
	for i := range n {
		engs[i], errcs[i] = queueCase(t, p, b, fmt.Sprintf("c%d", i), int64(i))
	}
	for i := range n {
		s := finished(t, engs[i], errcs[i], fmt.Sprintf("c%d", i))
		if s.Status != engine.Completed || s.Result != eval.Str(fmt.Sprintf("r%d", i)) {
			t.Errorf("case %d = %v %v %q", i, s.Status, s.Result, s.Error)
		}
	}
	cancel()
	wg.Wait()
	if len(by) < 2 {
		t.Errorf("deliveries by worker = %v, want the load spread", by)
	}
}

// TestQueueWithoutBroker: plain knhk run has no broker; the task fails
// with a message naming the queue and knhk serve.
func TestQueueWithoutBroker(t *testing.T) {
	p := payProgram(t, "")
	eng, errc := queueCase(t, p, nil, "c1", 7)
	s := finished(t, eng, errc, "c1")
	want := "task charge runs on queue \"billing\", which only `knhk serve` provides"
	if s.Status != engine.Failed || !strings.Contains(s.Error, want) {
		t.Fatalf("case = %v %q, want %q", s.Status, s.Error, want)
	}
}

// gatedLog holds back the append of every event whose kind is done until
// open is closed.
type gatedLog struct {
	*engine.MemLog
	open chan struct{}
}

func (g *gatedLog) Append(ctx context.Context, id string, ev *engine.Event) error {
	if ev.Kind == engine.EvDone {
		<-g.open
	}
	return g.MemLog.Append(ctx, id, ev)
}

// TestQueueCompletionAckedWhenLogged: a worker's CompleteTask returns
// only once the engine has the task's outcome in its log, so that an
// acknowledged completion survives a crash.
func TestQueueCompletionAckedWhenLogged(t *testing.T) {
	b := queue.New(queue.Options{})
	p := payProgram(t, "")
	log := &gatedLog{MemLog: engine.NewMemLog(), open: make(chan struct{})}
	eng, errc := startPay(t, engine.Config{Program: p, Eval: &host.Evaluator{}, Worker: New(p, Options{Queue: b}), Log: log}, "c1", 3)
	acked := completeAsync(b, pollOne(t, b, "w1"), `{"id":"r","cents":3}`)
	select {
	case err := <-acked:
		t.Fatalf("CompleteTask returned (%v) before the outcome was in the log", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(log.open)
	if err := <-acked; err != nil {
		t.Fatal(err)
	}
	if s := finished(t, eng, errc, "c1"); s.Status != engine.Completed || s.Result != eval.Str("r") {
		t.Fatalf("case = %v %v %q", s.Status, s.Result, s.Error)
	}
}

// opaque wraps a worker without passing its Recorder methods through.
type opaque struct{ w engine.Worker }

func (o opaque) Invoke(ctx context.Context, inv engine.Invocation) (eval.Value, error) {
	return o.w.Invoke(ctx, inv)
}

// TestQueueWrappedWorkerDoesNotWaitForRecord: under a wrapper that hides
// the Recorder, the engine never reports outcomes; the worker's
// completion must then be acknowledged at once, not after waiting for a
// record that never comes.
func TestQueueWrappedWorkerDoesNotWaitForRecord(t *testing.T) {
	b := queue.New(queue.Options{RecordWait: time.Hour})
	p := payProgram(t, "")
	eng, errc := startPay(t, engine.Config{Program: p, Eval: &host.Evaluator{},
		Worker: opaque{New(p, Options{Queue: b})}, Log: engine.NewMemLog()}, "c1", 3)
	acked := completeAsync(b, pollOne(t, b, "w1"), `{"id":"r","cents":3}`)
	select {
	case err := <-acked:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("CompleteTask waits for a record the engine will never send")
	}
	if s := finished(t, eng, errc, "c1"); s.Status != engine.Completed {
		t.Fatalf("case = %v %q", s.Status, s.Error)
	}
}
