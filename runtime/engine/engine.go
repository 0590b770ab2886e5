// This file implements the Engine: cases driven to quiescence, with every
// event appended to the log before it is applied.

package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/store"
)

// Config is what an Engine runs with. Program, Worker and Log are
// required; Eval is needed by any net with expressions; Clock defaults to
// the system clock.
type Config struct {
	Program *ir.Program
	Eval    Evaluator
	Worker  Worker
	Log     EventLog
	Clock   Clock
	Policy  Policy
	// MaxSteps bounds the events one Start, Signal or Run call commits
	// (default DefaultMaxSteps).
	MaxSteps int
	// Rounds runs the ready calls of a case as a round whose outcomes
	// are applied in invocation order once all have returned, which makes
	// runs with workers that answer at once reproducible (tests,
	// simulations). By default (live) each outcome is applied as soon as
	// it arrives and timers and backoffs fire while calls run, as a real
	// deployment needs: the first call to finish wins a join any, and a
	// select's timer can beat a slow call.
	Rounds bool
	// SnapshotEvery is how many events of a case pass between two of its
	// snapshots, when Log is a [Snapshotter] (default
	// DefaultSnapshotEvery; negative: never, and Recover then ignores
	// snapshots and replays whole cases). A snapshot larger than
	// BigSnapshot defers the next one until one event per
	// SnapshotBytesPerEvent of it has passed, so that a case with a
	// large state (a list of a million items, as many running
	// instances) does not write its whole state again every few events:
	// snapshots then add at most that many bytes per event to the log.
	// Recovery replays at most the larger of the two counts of events
	// after the latest snapshot.
	SnapshotEvery int
}

// DefaultSnapshotEvery is the default of Config.SnapshotEvery.
const DefaultSnapshotEvery = 256

// BigSnapshot and SnapshotBytesPerEvent: a snapshot of more than
// BigSnapshot bytes defers the next snapshot of its case by one event
// per SnapshotBytesPerEvent bytes (see Config.SnapshotEvery).
const (
	BigSnapshot           = 64 << 10
	SnapshotBytesPerEvent = 64
)

// snapDelay is how many events must pass after a snapshot of size bytes
// before the next one.
func snapDelay(size int) uint64 {
	if size <= BigSnapshot {
		return 0
	}
	return uint64(size / SnapshotBytesPerEvent)
}

// Engine runs the cases of one program. Its methods are safe for
// concurrent use; calls on one case are serialised.
type Engine struct {
	m      *Machine
	eval   Evaluator
	worker Worker
	log    EventLog
	clock  Clock
	policy Policy
	steps  int
	live   bool
	every  int         // Config.SnapshotEvery, 0 for never
	snaps  Snapshotter // nil when the log keeps no snapshots
	// checkWatch makes the scheduler check its watch of each case
	// against a pass over the whole state at every step (tests).
	checkWatch bool

	snapMu  sync.Mutex
	snapErr error

	mu    sync.Mutex
	cases map[string]*caseRun
}

type caseRun struct {
	mu sync.Mutex
	s  State
	n  uint64 // events of the case in the log
	// live is set while a live run drives the case; it waits on wake
	// with mu unlocked (see runLive).
	live bool
	wake chan struct{}
	// w narrows where the engine looks for the case's next event and
	// calls (see watch.go).
	w watch
	// snapAfter is the event count before which no snapshot is taken: a
	// large snapshot defers the next one (see snapDelay).
	snapAfter uint64
	// ev is drain's buffer for the next event: one per case, not one
	// per drain.
	ev Event
}

// ErrUnknownCase is returned for a case the engine does not hold.
var ErrUnknownCase = errors.New("unknown case")

// ErrBusy is returned when a case took Config.MaxSteps events in one
// call without waiting for anything (a loop of routing steps, say). The
// case is intact; Run continues it.
var ErrBusy = errors.New("case keeps running")

// DefaultMaxSteps is the default of Config.MaxSteps.
const DefaultMaxSteps = 1 << 20

// New returns an engine for cfg.
func New(cfg Config) (*Engine, error) {
	if cfg.Program == nil || cfg.Worker == nil || cfg.Log == nil {
		return nil, fmt.Errorf("engine needs a program, a worker and a log")
	}
	m, err := NewMachine(cfg.Program)
	if err != nil {
		return nil, err
	}
	if cfg.MaxSteps <= 0 {
		cfg.MaxSteps = DefaultMaxSteps
	}
	clock := cfg.Clock
	if clock == nil {
		clock = SystemClock{}
	}
	e := &Engine{m: m, eval: cfg.Eval, worker: cfg.Worker, log: cfg.Log, clock: clock, policy: cfg.Policy, steps: cfg.MaxSteps,
		live: !cfg.Rounds, cases: map[string]*caseRun{}}
	if sn, ok := cfg.Log.(Snapshotter); ok && cfg.SnapshotEvery >= 0 {
		e.snaps, e.every = sn, cfg.SnapshotEvery
		if e.every == 0 {
			e.every = DefaultSnapshotEvery
		}
	}
	return e, nil
}

// Machine returns the engine's compiled program.
func (e *Engine) Machine() *Machine { return e.m }

func (e *Engine) now() int64 { return e.clock.Now().UnixNano() }

// Start starts case id of workflow net with args and runs it until it
// waits or ends. Each argument is an eval.Value of its parameter's type
// or a plain Go value ([Machine.Args]).
func (e *Engine) Start(ctx context.Context, id, net string, args []any) error {
	ni := int32(-1)
	for i, n := range e.m.Prog.Nets {
		if n != nil && n.Name == net {
			ni = int32(i)
			break
		}
	}
	if ni < 0 {
		return fmt.Errorf("unknown workflow %s", net)
	}
	vals, err := e.m.Args(args, e.m.Prog.Nets[ni].Params)
	if err != nil {
		return fmt.Errorf("workflow %s: %w", net, err)
	}
	e.mu.Lock()
	if _, ok := e.cases[id]; ok {
		e.mu.Unlock()
		return fmt.Errorf("case %s exists", id)
	}
	cr := &caseRun{s: State{ID: id}}
	cr.mu.Lock()
	defer cr.mu.Unlock()
	e.cases[id] = cr
	e.mu.Unlock()
	if err := e.commit(ctx, cr, &Event{Kind: EvStart, Time: e.now(), Trans: ni, Values: vals}); err != nil {
		e.mu.Lock()
		delete(e.cases, id)
		e.mu.Unlock()
		return err
	}
	return e.run(ctx, cr)
}

func (e *Engine) lookup(id string) (*caseRun, error) {
	e.mu.Lock()
	cr := e.cases[id]
	e.mu.Unlock()
	if cr == nil {
		return nil, fmt.Errorf("%w %s", ErrUnknownCase, id)
	}
	return cr, nil
}

// Signal delivers signal name with payload to case id and runs it. Each
// payload value is an eval.Value of its parameter's type or a plain Go
// value ([Machine.Args]).
func (e *Engine) Signal(ctx context.Context, id, name string, payload []any) error {
	cr, err := e.lookup(id)
	if err != nil {
		return err
	}
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if cr.s.Done() {
		return nil
	}
	if !e.m.accepts(cr.s.Net, name) {
		return fmt.Errorf("workflow %s has no signal %s", e.m.Prog.Nets[cr.s.Net].Name, name)
	}
	var vals []eval.Value
	if d := e.m.signalDecl(&cr.s, name); d != nil {
		if vals, err = e.m.Args(payload, d.Params); err != nil {
			return fmt.Errorf("signal %s: %w", name, err)
		}
	} else if len(payload) > 0 {
		return fmt.Errorf("signal %s takes no payload", name)
	}
	if err := e.commit(ctx, cr, &Event{Kind: EvSignal, Time: e.now(), Name: name, Values: vals}); err != nil {
		return err
	}
	if cr.poke() {
		return nil // the live run of the case goes on from the signal
	}
	return e.run(ctx, cr)
}

// Run fires what is due in case id (timers, backoffs) at the clock's
// time and runs it until it waits or ends.
func (e *Engine) Run(ctx context.Context, id string) error {
	cr, err := e.lookup(id)
	if err != nil {
		return err
	}
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if cr.poke() {
		return nil
	}
	return e.run(ctx, cr)
}

// Cancel cancels case id.
func (e *Engine) Cancel(ctx context.Context, id string) error {
	cr, err := e.lookup(id)
	if err != nil {
		return err
	}
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if cr.s.Done() {
		return nil
	}
	if err := e.commit(ctx, cr, &Event{Kind: EvCancel, Time: e.now()}); err != nil {
		return err
	}
	cr.poke()
	return nil
}

// Recover rebuilds case id from the log, replacing what the engine held,
// and runs it: calls that were started but whose completion was not
// logged are invoked again with the same idempotency keys. When the log
// is a [Snapshotter], it starts from the case's latest snapshot and
// replays only the events after it; a snapshot that cannot be decoded
// (damaged, unknown version, another program) fails the recovery with an
// error wrapping [ErrBadSnapshot] instead of guessing.
func (e *Engine) Recover(ctx context.Context, id string) error {
	cr := &caseRun{s: State{ID: id}}
	cr.mu.Lock()
	defer cr.mu.Unlock()
	apply := func(ev *Event) error {
		cr.n++
		return e.m.Apply(&cr.s, ev)
	}
	var err error
	if e.snaps != nil {
		err = e.snaps.ReplaySnapshot(ctx, id, func(b []byte) error {
			s, n, err := e.m.DecodeState(b)
			if err != nil {
				return err
			}
			if s.ID != id {
				return fmt.Errorf("%w: snapshot of case %s", ErrBadSnapshot, s.ID)
			}
			cr.s, cr.n = *s, n
			cr.snapAfter = n + snapDelay(len(b))
			return nil
		}, apply)
	} else {
		err = e.log.Replay(ctx, id, apply)
	}
	if err != nil {
		return fmt.Errorf("replaying case %s: %w", id, err)
	}
	if cr.n == 0 {
		return fmt.Errorf("%w %s", ErrUnknownCase, id)
	}
	e.mu.Lock()
	e.cases[id] = cr
	e.mu.Unlock()
	return e.run(ctx, cr)
}

// Snapshot returns a copy of the state of case id.
func (e *Engine) Snapshot(id string) (*State, error) {
	cr, err := e.lookup(id)
	if err != nil {
		return nil, err
	}
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return cr.s.Clone(), nil
}

// NextDue returns when the earliest armed timer or backoff of case id
// comes due, false when none is armed.
func (e *Engine) NextDue(id string) (time.Time, bool) {
	cr, err := e.lookup(id)
	if err != nil {
		return time.Time{}, false
	}
	cr.mu.Lock()
	defer cr.mu.Unlock()
	due, ok := nextDue(&cr.s)
	return time.Unix(0, due), ok
}

// commit appends ev and applies it. An event is never applied unless the
// log accepted it.
func (e *Engine) commit(ctx context.Context, cr *caseRun, ev *Event) error {
	s := &cr.s
	if ev.Kind == EvFail && ctx.Err() != nil {
		// A failure decided while ctx was ending may be the ending
		// itself (an evaluation stopped by it: "time.sleep_1: context
		// canceled" when a server closed as a sleep ended), not the
		// case's: nothing is written, and the next run, which replays
		// the same log, decides again.
		return ctx.Err()
	}
	if err := e.log.Append(ctx, s.ID, ev); err != nil {
		return err
	}
	cr.n++
	p := cr.w.before(e.m, s, ev)
	if err := e.m.Apply(s, ev); err != nil {
		cr.w.everything()
		return fmt.Errorf("case %s: %w", s.ID, err)
	}
	cr.w.after(s, ev, p, cr.live)
	if e.snaps != nil && cr.n%uint64(e.every) == 0 && cr.n >= cr.snapAfter {
		e.snapshot(ctx, cr)
	}
	return nil
}

// snapshot saves the state of cr. A snapshot is only a shortcut for
// recovery (the events are durable already), so failing to take one does
// not fail the event; the error is kept for [Engine.SnapshotErr].
func (e *Engine) snapshot(ctx context.Context, cr *caseRun) {
	b, err := e.m.EncodeState(&cr.s, cr.n)
	if err == nil {
		cr.snapAfter = cr.n + snapDelay(len(b))
		err = e.snaps.SaveSnapshot(ctx, cr.s.ID, b)
	}
	if err != nil {
		e.snapMu.Lock()
		e.snapErr = err
		e.snapMu.Unlock()
	}
}

// SnapshotErr returns the error of the latest case snapshot that could
// not be taken, nil if none failed.
func (e *Engine) SnapshotErr() error {
	e.snapMu.Lock()
	defer e.snapMu.Unlock()
	return e.snapErr
}

// drain commits events until none is ready without a call completing.
// hold, when not nil, sees each event first: when it reports true, the
// event is not committed and the next one is decided afresh (a live run
// holds a failure back until its calls in flight have finished).
func (e *Engine) drain(ctx context.Context, cr *caseRun, steps *int, hold func(*Event) (bool, error)) error {
	s := &cr.s
	// The case's one event buffer (Append must not retain it), cleared
	// on the way out so that an idle case keeps no values through it.
	ev := &cr.ev
	defer func() { *ev = Event{} }()
	for ; ; *steps++ {
		if *steps >= e.steps {
			return fmt.Errorf("%w: %s made %d steps without waiting", ErrBusy, s.ID, *steps)
		}
		var ok bool
		if *ev, ok = e.nextIn(ctx, s, &cr.w, e.now()); !ok {
			return nil
		}
		if hold != nil {
			held, err := hold(ev)
			if err != nil {
				return err
			}
			if held {
				continue
			}
		}
		if err := e.commit(ctx, cr, ev); err != nil {
			return err
		}
	}
}

type outcome struct {
	inv    *Inv
	result eval.Value
	err    error
}

// run drives s until it ends or waits for a timer, a signal or nothing.
// Ready calls are invoked together, as a round; their outcomes are
// applied in invocation order, each followed by the events it enables,
// and an outcome whose call was cancelled meanwhile is dropped.
func (e *Engine) run(ctx context.Context, cr *caseRun) error {
	if e.live {
		return e.runLive(ctx, cr)
	}
	s := &cr.s
	steps := 0
	for {
		if err := e.drain(ctx, cr, &steps, nil); err != nil {
			return err
		}
		var ready []*Inv
		for _, v := range s.Invs {
			if !v.Waiting {
				ready = append(ready, v)
			}
		}
		if len(ready) == 0 {
			return nil
		}
		outs := make([]outcome, len(ready))
		if len(ready) == 1 {
			outs[0] = e.invoke(ctx, s, ready[0])
		} else {
			var wg sync.WaitGroup
			for i, v := range ready {
				inv := e.invocation(s, v)
				wg.Go(func() { outs[i] = e.call(ctx, v, inv) })
			}
			wg.Wait()
		}
		steps = 0 // the case waited for its calls: MaxSteps counts from here (ErrBusy)
		for _, o := range outs {
			if err := ctx.Err(); err != nil {
				return err
			}
			if cur, _ := s.inv(o.inv.ID); cur != o.inv || cur.Waiting || cur.Attempt != o.inv.Attempt {
				continue // cancelled or abandoned meanwhile
			}
			var ev Event
			if o.err != nil {
				ev = e.failedEvent(ctx, s, o.inv, o.err, e.now())
			} else {
				ev = e.doneEvent(ctx, s, o.inv, o.result, e.now())
			}
			ev = blame(s, s.frame(o.inv.Frame), ev)
			if err := e.commitOutcome(ctx, cr, &ev, o.inv); err != nil {
				return err
			}
			if err := e.drain(ctx, cr, &steps, nil); err != nil {
				return err
			}
		}
	}
}

func (e *Engine) invoke(ctx context.Context, s *State, v *Inv) outcome {
	return e.call(ctx, v, e.invocation(s, v))
}

// invocation describes attempt v.Attempt of call v.
func (e *Engine) invocation(s *State, v *Inv) Invocation {
	name := "undo"
	if f := s.frame(v.Frame); f != nil && !v.Comp {
		name = e.m.nets[f.Net].trans[v.Trans].t.Name
	} else if v.Hook {
		name = hookLabel(e.m.actionHook(v.Call, -1), v.Trans)
	}
	inv := Invocation{CaseID: s.ID, Transition: name, Attempt: int(v.Attempt), Args: v.Args, Compensation: v.Comp,
		IdempotencyKey: store.InvocationKey(s.ID, name, int(v.ID), int(v.Attempt))}
	switch v.Call.Kind {
	case ir.CallTask:
		inv.Task = e.m.task(v.Call)
	case ir.CallKernel:
		if k := v.Call.Target; k >= 0 && int(k) < len(e.m.Prog.Kernels) {
			inv.Kernel = e.m.Prog.Kernels[k]
		}
	}
	return inv
}

// call runs one attempt of v.
func (e *Engine) call(ctx context.Context, v *Inv, inv Invocation) outcome {
	r, err := e.attempt(ctx, v.Timeout, inv)
	return outcome{inv: v, result: r, err: err}
}

// attempt runs inv, bounded by timeout nanoseconds (0 for none).
func (e *Engine) attempt(ctx context.Context, timeout int64, inv Invocation) (eval.Value, error) {
	if inv.Task == nil && inv.Kernel == nil {
		return eval.Value{}, fmt.Errorf("call of unknown task or kernel in %s", inv.Transition)
	}
	cctx, cancel := e.attemptContext(ctx, timeout)
	defer cancel()
	r, err := e.worker.Invoke(cctx, inv)
	return attempted(ctx, cctx, timeout, r, err)
}

// attemptContext is the context of an attempt under ctx: bounded by
// timeout nanoseconds (0 for none), and marked when the worker is a
// [Recorder] (WillRecord).
func (e *Engine) attemptContext(ctx context.Context, timeout int64) (context.Context, context.CancelFunc) {
	cctx, cancel := ctx, func() {}
	if timeout > 0 {
		cctx, cancel = context.WithTimeout(ctx, time.Duration(timeout))
	}
	if e.records() && !WillRecord(ctx) {
		cctx = context.WithValue(cctx, recordsKey{}, true)
	}
	return cctx, cancel
}

// records reports whether the engine's worker is a [Recorder].
func (e *Engine) records() bool {
	_, ok := e.worker.(Recorder)
	return ok
}

// attempted is the outcome of an attempt whose worker returned (r,
// err) under cctx, attemptContext's context under ctx: a timeout
// passed is the attempt's error even when the worker returned a result.
func attempted(ctx, cctx context.Context, timeout int64, r eval.Value, err error) (eval.Value, error) {
	if err == nil && timeout > 0 && cctx.Err() != nil {
		err = cctx.Err()
	}
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %v", time.Duration(timeout))
	}
	return r, err
}

// startAttempt begins inv on a worker that is a [Starter] and reports
// whether it did, with the function that withdraws it; done gets
// attempt's outcome. A timeout withdraws the call when it passes.
func (e *Engine) startAttempt(ctx context.Context, timeout int64, inv Invocation, done func(eval.Value, error)) (func(error), bool) {
	st, ok := e.worker.(Starter)
	if !ok || inv.Task == nil {
		return nil, false
	}
	cctx, cancel := e.attemptContext(ctx, timeout)
	stop, ok := st.Start(cctx, inv, func(r eval.Value, err error) {
		r, err = attempted(ctx, cctx, timeout, r, err)
		cancel()
		done(r, err)
	})
	if !ok {
		cancel()
		return nil, false
	}
	if timeout > 0 {
		context.AfterFunc(cctx, func() {
			if cctx.Err() == context.DeadlineExceeded {
				stop(cctx.Err())
			}
		})
	}
	return stop, true
}

// Forget drops case id from memory (its events stay in the log), for a
// finished case or one another engine now owns.
func (e *Engine) Forget(id string) {
	e.mu.Lock()
	delete(e.cases, id)
	e.mu.Unlock()
}
