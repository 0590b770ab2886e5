// This file tests the send statement end to end on compiled workflows: a
// signal raised to the case itself, mail delivered to another case, and
// exactly-once delivery across a crash at every event boundary.

package host

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

const sendSrc = `package t

task note(s: string) exec "./note"

workflow Waiter() -> string {
  signal Go(msg: string)
  var got = ""
  select {
    on signal Go(msg: string) -> got = msg
  }
  return got
}

workflow Sender(to: string) -> int {
  signal Self(n: int)
  var seen = 0
  parallel {
    select {
      on signal Self(n: int) -> seen = n
    }
    send Self(7)
  } join all
  send Waiter.Go("hello " + to) to to
  note("after")
  return seen
}
`

// noteWorker answers every call at once and counts them by argument.
type noteWorker struct {
	mu    sync.Mutex
	calls []string
}

func (w *noteWorker) Invoke(_ context.Context, inv engine.Invocation) (eval.Value, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, fmt.Sprint(plainArgs(inv.Args)...))
	return eval.Value{}, nil
}

// failingLog is a MemLog whose appends fail from the (limit+1)th on, as
// if the process died there: nothing after it reaches the log.
type failingLog struct {
	*engine.MemLog
	mu    sync.Mutex
	n     int
	limit int // -1: never fail
}

var errCrash = errors.New("crash")

func (l *failingLog) Append(ctx context.Context, id string, ev *engine.Event) error {
	l.mu.Lock()
	if l.limit >= 0 && l.n >= l.limit {
		l.mu.Unlock()
		return errCrash
	}
	l.n++
	l.mu.Unlock()
	return l.MemLog.Append(ctx, id, ev)
}

// finder returns the engine when it holds the case, recovering it from
// the log when it has events there.
func finder(e *engine.Engine, log *engine.MemLog) Finder {
	return func(ctx context.Context, id string) (*engine.Engine, error) {
		if e.Holds(id) {
			return e, nil
		}
		if len(log.Events(id)) == 0 {
			return nil, fmt.Errorf("%w: unknown case %s", engine.ErrUndeliverable, id)
		}
		return e, e.Recover(ctx, id)
	}
}

// sendScenario runs the waiter w and the sender s to their ends on a
// fresh engine over log, starting what the log does not hold yet and
// recovering what it does, and delivers the sender's mail.
func sendScenario(ctx context.Context, t *testing.T, log *failingLog, w *noteWorker) (*engine.Engine, error) {
	e, err := engine.New(engine.Config{Program: compile(t, sendSrc), Eval: &Evaluator{}, Worker: w, Log: log, Rounds: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ id, net string }{{"w", "Waiter"}, {"s", "Sender"}} {
		if len(log.Events(c.id)) == 0 {
			var args []any
			if c.net == "Sender" {
				args = []any{"w"}
			}
			err = e.Start(ctx, c.id, c.net, args)
		} else {
			err = e.Recover(ctx, c.id)
		}
		if err != nil {
			return e, err
		}
	}
	return e, Post(ctx, e, "s", finder(e, log.MemLog), nil)
}

func countEvents(evs []engine.Event, kind engine.EventKind) int {
	n := 0
	for _, ev := range evs {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

// TestSendSelfAndOther: the sender's own signal reaches its waiting
// branch in the event of the send, and the mail to the waiter is
// delivered once, settled in the sender, and completes the waiter.
func TestSendSelfAndOther(t *testing.T) {
	ctx := context.Background()
	log := &failingLog{MemLog: engine.NewMemLog(), limit: -1}
	w := &noteWorker{}
	e, err := sendScenario(ctx, t, log, w)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := e.Snapshot("s")
	if s.Status != engine.Completed || s.Result != eval.Int(7) {
		t.Errorf("sender: %s %v, want completed with 7 (the payload of its own signal)", s.Status, s.Result)
	}
	if len(s.Outbox) != 0 || len(s.Undelivered) != 0 {
		t.Errorf("sender outbox %v, undelivered %v; want both empty", s.Outbox, s.Undelivered)
	}
	ws, _ := e.Snapshot("w")
	if ws.Status != engine.Completed || ws.Result != eval.Str("hello w") {
		t.Errorf("waiter: %s %v, want completed with \"hello w\"", ws.Status, ws.Result)
	}
	if n := countEvents(log.Events("s"), engine.EvSignal); n != 0 {
		t.Errorf("the sender's own signal took %d EvSignal events; it travels in the send's EvFire", n)
	}
	wev := log.Events("w")
	if n := countEvents(wev, engine.EvSignal); n != 1 {
		t.Fatalf("waiter got %d signals, want 1", n)
	}
	for _, ev := range wev {
		if ev.Kind == engine.EvSignal && ev.From != "s/send/1" {
			t.Errorf("waiter's signal is from mail %q, want s/send/1 (the sender's second send)", ev.From)
		}
	}
	if n := countEvents(log.Events("s"), engine.EvSent); n != 1 {
		t.Errorf("sender settled %d mails, want 1", n)
	}
	// Posting again finds nothing to deliver.
	before := len(wev)
	if err := Post(ctx, e, "s", finder(e, log.MemLog), nil); err != nil {
		t.Fatal(err)
	}
	if len(log.Events("w")) != before {
		t.Errorf("a second Post appended to the waiter's log")
	}
}

// TestSendCrashAtEveryEvent crashes the scenario after each of its
// appends in turn, restarts it on what reached the log, and checks that
// every run ends the same way with the waiter's log holding the signal
// exactly once and the sender settling its mail exactly once.
func TestSendCrashAtEveryEvent(t *testing.T) {
	ctx := context.Background()
	clean := &failingLog{MemLog: engine.NewMemLog(), limit: -1}
	if _, err := sendScenario(ctx, t, clean, &noteWorker{}); err != nil {
		t.Fatal(err)
	}
	total := clean.n
	if total < 10 {
		t.Fatalf("the clean run appended %d events; the scenario is not what this test expects", total)
	}
	for k := 0; k < total; k++ {
		log := &failingLog{MemLog: engine.NewMemLog(), limit: k}
		w := &noteWorker{}
		if _, err := sendScenario(ctx, t, log, w); !errors.Is(err, errCrash) {
			t.Fatalf("crash after %d events: the run did not stop at the crash (err %v)", k, err)
		}
		log.limit = -1
		e, err := sendScenario(ctx, t, log, w)
		if err != nil {
			t.Fatalf("crash after %d events: restart: %v", k, err)
		}
		s, _ := e.Snapshot("s")
		ws, _ := e.Snapshot("w")
		if s.Status != engine.Completed || s.Result != eval.Int(7) || ws.Status != engine.Completed || ws.Result != eval.Str("hello w") {
			t.Errorf("crash after %d events: sender %s %v, waiter %s %v", k, s.Status, s.Result, ws.Status, ws.Result)
		}
		if n := countEvents(log.Events("w"), engine.EvSignal); n != 1 {
			t.Errorf("crash after %d events: the waiter received the signal %d times", k, n)
		}
		if n := countEvents(log.Events("s"), engine.EvSent); n != 1 {
			t.Errorf("crash after %d events: the sender settled its mail %d times", k, n)
		}
		if len(s.Outbox) != 0 {
			t.Errorf("crash after %d events: mail left in the outbox: %v", k, s.Outbox)
		}
	}
}

// TestSendUndeliverable: mail to an unknown case, an ended case, a case
// of another workflow, or one whose declaration of the signal does not
// take the payload, is recorded in the sender as undeliverable with the
// reason, and the sender completes.
func TestSendUndeliverable(t *testing.T) {
	const src = `package t

workflow Waiter() {
  select {
    on signal Go(msg: string) -> {}
  }
}

workflow Other() {
  select {
    on signal Go(msg: string) -> {}
  }
}

workflow Sender(to: string) {
  send Waiter.Go("x") to to
}
`
	const intSrc = `package t

workflow Waiter() {
  select {
    on signal Go(n: int) -> {}
  }
}
`
	ctx := context.Background()
	for _, tc := range []struct {
		name, to, want string
		setup          func(e, intE *engine.Engine)
	}{
		{"unknown", "nobody", "unknown case nobody", nil},
		{"ended", "w", "case w has ended (completed)", func(e, _ *engine.Engine) {
			mustDo(t, e.Start(ctx, "w", "Waiter", nil))
			mustDo(t, e.Signal(ctx, "w", "Go", []any{"first"}))
		}},
		{"workflow", "o", "case o runs workflow Other, not Waiter", func(e, _ *engine.Engine) {
			mustDo(t, e.Start(ctx, "o", "Other", nil))
		}},
		{"payload", "i", "the payload of signal Go does not fit case i", func(_, intE *engine.Engine) {
			mustDo(t, intE.Start(ctx, "i", "Waiter", nil))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := engine.NewMemLog()
			e, err := engine.New(engine.Config{Program: compile(t, src), Eval: &Evaluator{}, Worker: &noteWorker{}, Log: log, Rounds: true})
			mustDo(t, err)
			intE, err := engine.New(engine.Config{Program: compile(t, intSrc), Eval: &Evaluator{}, Worker: &noteWorker{}, Log: log, Rounds: true})
			mustDo(t, err)
			if tc.setup != nil {
				tc.setup(e, intE)
			}
			mustDo(t, e.Start(ctx, "s", "Sender", []any{tc.to}))
			var got []Delivery
			find := func(ctx context.Context, id string) (*engine.Engine, error) {
				switch {
				case intE.Holds(id):
					return intE, nil
				case e.Holds(id):
					return e, nil
				}
				return nil, fmt.Errorf("%w %s", engine.ErrUnknownCase, id)
			}
			mustDo(t, Post(ctx, e, "s", find, func(d Delivery) { got = append(got, d) }))
			if len(got) != 1 || !strings.Contains(got[0].Why, tc.want) {
				t.Fatalf("deliveries %+v, want one undeliverable: %q", got, tc.want)
			}
			s, _ := e.Snapshot("s")
			if s.Status != engine.Completed || len(s.Outbox) != 0 || len(s.Undelivered) != 1 || !strings.Contains(s.Undelivered[0], "signal Go to case "+tc.to) {
				t.Errorf("sender %s, outbox %v, undelivered %q", s.Status, s.Outbox, s.Undelivered)
			}
			// The record survives a replay.
			r, err := engine.New(engine.Config{Program: compile(t, src), Eval: &Evaluator{}, Worker: &noteWorker{}, Log: log, Rounds: true})
			mustDo(t, err)
			mustDo(t, r.Recover(ctx, "s"))
			rs, _ := r.Snapshot("s")
			if len(rs.Undelivered) != 1 || rs.Undelivered[0] != s.Undelivered[0] {
				t.Errorf("after replay undelivered %q, want %q", rs.Undelivered, s.Undelivered)
			}
		})
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// plainArgs is args as Go values, for printing.
func plainArgs(args []eval.Value) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = eval.Plain(a)
	}
	return out
}
