// This file implements live runs: the calls of a case run in the
// background and each outcome is applied when it arrives, so that the
// first call to finish wins a discriminator and a timer fires while a
// call is still running.

package engine

import (
	"context"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// flight is a call running in the background: on a goroutine, which
// cancel stops, or started on a Starter, which stop withdraws.
type flight struct {
	attempt int32
	cancel  context.CancelFunc
	stop    func(error)
}

// end stops the call of f, if it still runs.
func (f *flight) end() {
	if f.stop != nil {
		f.stop(context.Canceled)
		return
	}
	f.cancel()
}

// liveOutcome is what a background call reports.
type liveOutcome struct {
	id, attempt int32
	result      eval.Value
	err         error
}

// liveRun is one live run of a case: its calls in flight and where their
// outcomes arrive.
type liveRun struct {
	e       *Engine
	cr      *caseRun
	ctx     context.Context
	steps   int
	flights map[int32]*flight
	out     *outbox // the calls' outcomes (outbox.go)
	stop    chan struct{}
	// wg counts the run's call goroutines and the calls started on a
	// Starter whose outcome has not come yet.
	wg    sync.WaitGroup
	spare chan chan func() // goroutines whose call ended, waiting for the next (spare.go)
	// What the run has seen of the case's watch (see watch.go): its
	// count of events that marked everything and of calls dropped, and
	// the invocation ids below seen, whose calls it has started.
	begun      bool
	all, drops uint64
	seen       int32
}

// runLive drives cr like run, but applies call outcomes in the order they
// arrive and fires timers and backoffs when they come due, with calls
// still running. A call whose invocation the case dropped meanwhile
// (withdrawn by a join, a cancellation or the end of the case) has its
// context cancelled, which stops its worker (an exec task's process group
// is killed), and its outcome is ignored. While it waits the case is
// unlocked, so that Signal, Run and Cancel can reach it; they hand their
// event to this run instead of running the case themselves.
//
// A case about to fail (a call failed for good, a fail statement, an
// evaluation error) first lets the calls already running finish and
// records their outcomes: a reservation made beside a declined payment
// completes, so the saga knows to undo it.
func (e *Engine) runLive(ctx context.Context, cr *caseRun) error {
	if e.records() {
		// Marked once for every attempt of the run (attemptContext).
		ctx = context.WithValue(ctx, recordsKey{}, true)
	}
	r := &liveRun{e: e, cr: cr, ctx: ctx, flights: map[int32]*flight{}, out: newOutbox(), stop: make(chan struct{}),
		spare: make(chan chan func(), maxSpare)}
	// On the way out, stop the calls still running and wait for their
	// workers to return, so that no call outlives the run (an exec
	// task's processes are gone when Start, Signal or Run returns).
	defer func() {
		for _, f := range r.flights {
			f.end()
		}
		close(r.stop)
		// Callers that come in while the workers wind down run the case
		// themselves: this run is over.
		cr.live = false
		cr.mu.Unlock()
		r.wg.Wait()
		cr.mu.Lock()
	}()
	cr.live = true
	s := &cr.s
	for {
		if err := e.drain(ctx, cr, &r.steps, r.hold); err != nil {
			return err
		}
		r.withdraw()
		r.start()
		if len(r.flights) == 0 {
			return nil
		}
		var due <-chan time.Time
		var timer *time.Timer
		if at, ok := nextDueIn(s, &cr.w); ok {
			d := time.Duration(at - e.now())
			if d <= 0 {
				d = time.Millisecond // due now: drain fires it
			}
			timer = time.NewTimer(d)
			due = timer.C
		}
		wake := cr.wakeC()
		e.flush(s.ID)
		cr.mu.Unlock()
		ready := false
		select {
		case <-r.out.ready:
			ready = true
		case <-due:
		case <-wake:
		case <-ctx.Done():
		}
		cr.mu.Lock()
		if timer != nil {
			timer.Stop()
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		// The case waited: MaxSteps counts the events since (ErrBusy).
		r.steps = 0
		if !ready {
			continue
		}
		o, got := r.out.take()
		if !got {
			continue
		}
		if err := r.outcome(o); err != nil {
			return err
		}
	}
}

// hold holds back an event that fails the case while calls are in
// flight: they finish first and their outcomes are recorded (settle),
// and the next event is decided afresh.
func (r *liveRun) hold(ev *Event) (bool, error) {
	if !r.e.failsCase(&r.cr.s, ev) || !r.running() {
		return false, nil
	}
	return true, r.settle()
}

// withdraw cancels the calls the case no longer runs. Only an event that
// dropped a call other than the one whose outcome it records can have
// withdrawn one (see watch.after), so it looks only after such events.
func (r *liveRun) withdraw() {
	w := &r.cr.w
	if r.begun && r.all == w.all && r.drops == w.dropped {
		return
	}
	r.drops = w.dropped
	for id, f := range r.flights {
		if !r.current(id, f) {
			f.end()
			delete(r.flights, id)
		}
	}
}

// current reports whether flight f of invocation id is still the case's.
func (r *liveRun) current(id int32, f *flight) bool {
	v, _ := r.cr.s.inv(id)
	return v != nil && !v.Waiting && v.Attempt == f.attempt
}

// running reports whether a call of the case is in flight.
func (r *liveRun) running() bool {
	for id, f := range r.flights {
		if r.current(id, f) {
			return true
		}
	}
	return false
}

// start starts the ready calls that are not in flight: on its first
// call, or after an event that marked everything, every ready call;
// otherwise those created since (ids from r.seen on) and those whose
// backoff ended.
func (r *liveRun) start() {
	s, w := &r.cr.s, &r.cr.w
	if !r.begun || r.all != w.all {
		r.begun, r.all = true, w.all
		for _, v := range s.Invs {
			r.launch(v)
		}
	} else {
		slices.Sort(w.retried)
		for _, id := range w.retried {
			if v, _ := s.inv(id); v != nil {
				r.launch(v)
			}
		}
		for i := s.firstInvFrom(r.seen); i < len(s.Invs); i++ {
			r.launch(s.Invs[i])
		}
	}
	w.retried = w.retried[:0]
	r.seen = s.NextInv
}

// launch starts call v in the background unless it waits or is in
// flight: on a worker that is a [Starter] without a goroutine, else on
// a goroutine of the run's (spare.go).
func (r *liveRun) launch(v *Inv) {
	if v.Waiting || r.flights[v.ID] != nil {
		return
	}
	f := &flight{attempt: v.Attempt}
	r.flights[v.ID] = f
	id, attempt, timeout, inv := v.ID, v.Attempt, v.Timeout, r.e.invocation(&r.cr.s, v)
	r.wg.Add(1)
	done := func(res eval.Value, err error) {
		r.out.put(liveOutcome{id: id, attempt: attempt, result: res, err: err})
		r.wg.Done()
	}
	if stop, ok := r.e.startAttempt(r.ctx, timeout, inv, done); ok {
		// No context of its own: stop withdraws it (flight.end).
		f.stop = stop
		return
	}
	cctx, cancel := context.WithCancel(r.ctx)
	f.cancel = cancel
	r.goCall(func() { done(r.e.attempt(cctx, timeout, inv)) })
}

// outcome records the outcome o of a call. One that fails the case while
// other calls are in flight waits for them (see settle).
func (r *liveRun) outcome(o liveOutcome) error {
	ev, v, ok := r.event(o)
	if !ok {
		return nil
	}
	held, err := r.hold(&ev)
	if err != nil {
		return err
	}
	if cur, _ := r.cr.s.inv(v.ID); held && (cur != v || r.cr.s.Status != Running) {
		return nil // the case failed meanwhile and dropped the call
	}
	return r.commit(ev, v)
}

// event turns outcome o into its event, false when the call was
// withdrawn meanwhile.
func (r *liveRun) event(o liveOutcome) (Event, *Inv, bool) {
	e, s := r.e, &r.cr.s
	f := r.flights[o.id]
	if f == nil || f.attempt != o.attempt {
		return Event{}, nil, false
	}
	delete(r.flights, o.id)
	if f.cancel != nil {
		f.cancel() // a started call has ended: nothing to stop
	}
	v, _ := s.inv(o.id)
	if v == nil || v.Waiting || v.Attempt != o.attempt {
		return Event{}, nil, false
	}
	var ev Event
	if o.err != nil {
		ev = e.failedEvent(r.ctx, s, v, o.err, e.now())
	} else {
		ev = e.doneEvent(r.ctx, s, v, o.result, e.now())
	}
	return blame(s, s.frame(v.Frame), ev), v, true
}

// commit appends and applies ev, the outcome of call v, and tells a
// learning policy about a route's call.
func (r *liveRun) commit(ev Event, v *Inv) error {
	if ev.Time < r.cr.s.Now {
		// Held back by settle behind later outcomes: the log stays in
		// time order.
		ev.Time = r.cr.s.Now
	}
	return r.e.commitOutcome(r.ctx, r.cr, &ev, v)
}

// settle waits for every call in flight and records their outcomes:
// completions first, in the order they arrived, so that their
// compensations are on the stack, then failures. It runs before the case
// fails.
func (r *liveRun) settle() error {
	var got []liveOutcome
	reported := map[int32]bool{}
	for {
		waiting := false
		for id, f := range r.flights {
			waiting = waiting || !reported[id] && r.current(id, f)
		}
		if !waiting {
			break
		}
		r.e.flush(r.cr.s.ID)
		r.cr.mu.Unlock()
		select {
		case <-r.out.ready:
		case <-r.ctx.Done():
		}
		r.cr.mu.Lock()
		if err := r.ctx.Err(); err != nil {
			return err
		}
		o, ok := r.out.take()
		if !ok {
			continue
		}
		if f := r.flights[o.id]; f != nil && f.attempt == o.attempt && !reported[o.id] {
			reported[o.id] = true
			got = append(got, o)
		}
	}
	for _, failures := range []bool{false, true} {
		for _, o := range got {
			if (o.err != nil) != failures || r.cr.s.Status != Running {
				continue
			}
			if ev, v, ok := r.event(o); ok {
				if err := r.commit(ev, v); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// failsCase reports whether ev, about to be committed, fails the case: a
// fail event or fail statement of the main path, or the last attempt of
// one of its calls failing.
func (e *Engine) failsCase(s *State, ev *Event) bool {
	switch ev.Kind {
	case EvFail:
		return s.hookTop(ev.Frame) == nil
	case EvFire:
		f := s.frame(ev.Frame)
		if f == nil || s.hookTop(f.ID) != nil {
			return false
		}
		c := e.m.net(f.Net)
		return c != nil && ev.Trans >= 0 && int(ev.Trans) < len(c.trans) && c.trans[ev.Trans].t.Kind == ir.TFail
	case EvFailed:
		v, _ := s.inv(ev.Inv)
		return v != nil && !v.Comp && !v.Hook && v.Attempt >= v.Attempts && s.hookTop(v.Frame) == nil
	}
	return false
}

// wakeC returns the channel that tells a live run of cr that another
// caller committed an event to its case.
func (cr *caseRun) wakeC() chan struct{} {
	if cr.wake == nil {
		cr.wake = make(chan struct{}, 1)
	}
	return cr.wake
}

// poke wakes the live run of cr, if there is one, and reports whether
// there was.
func (cr *caseRun) poke() bool {
	if !cr.live {
		return false
	}
	select {
	case cr.wakeC() <- struct{}{}:
	default:
	}
	return true
}

// nextDue returns the earliest armed timer or backoff of s.
func nextDue(s *State) (int64, bool) { return nextDueIn(s, nil) }

// nextDueIn is nextDue, passing over the calls when w (when not nil)
// knows that none waits.
func nextDueIn(s *State, w *watch) (int64, bool) {
	due, ok := int64(0), false
	if w != nil && w.timersKnown {
		// A lower bound: at worst the run wakes early and the scheduler
		// tightens it.
		due, ok = w.timerDue, w.timerDue != math.MaxInt64
	} else {
		for _, t := range s.Timers {
			if !ok || t.Due < due {
				due, ok = t.Due, true
			}
		}
	}
	if w != nil && w.noWait {
		return due, ok
	}
	for _, v := range s.Invs {
		if v.Waiting && (!ok || v.Due < due) {
			due, ok = v.Due, true
		}
	}
	return due, ok
}
