// This file implements live runs: the calls of a case run in the
// background and each outcome is applied when it arrives, so that the
// first call to finish wins a discriminator and a timer fires while a
// call is still running.

package engine

import (
	"context"
	"sync"
	"time"
)

// flight is a call running in the background.
type flight struct {
	attempt int32
	cancel  context.CancelFunc
}

// liveOutcome is what a background call reports.
type liveOutcome struct {
	id, attempt int32
	result      any
	err         error
}

// runLive drives cr like run, but applies call outcomes in the order they
// arrive and fires timers and backoffs when they come due, with calls
// still running. A call whose invocation the case dropped meanwhile
// (withdrawn by a join, a cancellation or the end of the case) has its
// context cancelled, which stops its worker (an exec task's process group
// is killed), and its outcome is ignored. While it waits the case is
// unlocked, so that Signal, Run and Cancel can reach it; they hand their
// event to this run instead of running the case themselves.
func (e *Engine) runLive(ctx context.Context, cr *caseRun) error {
	s := &cr.s
	steps := 0
	flights := map[int32]*flight{}
	results := make(chan liveOutcome, 16)
	// On the way out, stop the calls still running and wait for their
	// workers to return, so that no call outlives the run (an exec
	// task's processes are gone when Start, Signal or Run returns).
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() {
		for _, f := range flights {
			f.cancel()
		}
		close(stop)
		// Callers that come in while the workers wind down run the case
		// themselves: this run is over.
		cr.live = false
		cr.mu.Unlock()
		wg.Wait()
		cr.mu.Lock()
	}()
	cr.live = true
	for {
		if err := e.drain(ctx, cr, &steps); err != nil {
			return err
		}
		// Withdraw the calls the case no longer runs.
		for id, f := range flights {
			if v, _ := s.inv(id); v == nil || v.Waiting || v.Attempt != f.attempt {
				f.cancel()
				delete(flights, id)
			}
		}
		// Start the ready ones.
		for _, v := range s.Invs {
			if v.Waiting || flights[v.ID] != nil {
				continue
			}
			cctx, cancel := context.WithCancel(ctx)
			flights[v.ID] = &flight{attempt: v.Attempt, cancel: cancel}
			id, attempt, timeout, inv := v.ID, v.Attempt, v.Timeout, e.invocation(s, v)
			wg.Go(func() {
				r, err := e.attempt(cctx, timeout, inv)
				select {
				case results <- liveOutcome{id: id, attempt: attempt, result: r, err: err}:
				case <-stop:
				}
			})
		}
		if len(flights) == 0 {
			return nil
		}
		var due <-chan time.Time
		var timer *time.Timer
		if at, ok := nextDue(s); ok {
			d := time.Duration(at - e.now())
			if d <= 0 {
				d = time.Millisecond // due now: drain fires it
			}
			timer = time.NewTimer(d)
			due = timer.C
		}
		wake := cr.wakeC()
		cr.mu.Unlock()
		var o liveOutcome
		got := false
		select {
		case o = <-results:
			got = true
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
		if !got {
			continue
		}
		f := flights[o.id]
		if f == nil || f.attempt != o.attempt {
			continue // withdrawn meanwhile
		}
		delete(flights, o.id)
		f.cancel()
		v, _ := s.inv(o.id)
		if v == nil || v.Waiting || v.Attempt != o.attempt {
			continue
		}
		var ev Event
		if o.err != nil {
			ev = e.failedEvent(ctx, s, v, o.err, e.now())
		} else {
			ev = e.doneEvent(ctx, s, v, o.result, e.now())
		}
		ev = blame(s, s.frame(v.Frame), ev)
		route := e.m.routeOf(s, v)
		if err := e.commit(ctx, cr, &ev); err != nil {
			return err
		}
		e.learn(s, route, v, &ev)
	}
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
func nextDue(s *State) (int64, bool) {
	due, ok := int64(0), false
	for _, t := range s.Timers {
		if !ok || t.Due < due {
			due, ok = t.Due, true
		}
	}
	for _, v := range s.Invs {
		if v.Waiting && (!ok || v.Due < due) {
			due, ok = v.Due, true
		}
	}
	return due, ok
}
