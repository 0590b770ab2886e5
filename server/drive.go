// This file implements a case's driver: the goroutine that runs it on
// from its start or recovery, sleeps until its next timer or backoff, and
// keeps its summary current, as knhk run's resume loop does for one case.

package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/knhk/knhk/runtime/engine"
)

// drive runs case e of program p: first starts or recovers it; then the
// case is run whenever a timer or backoff comes due, until it ends or the
// Service drains.
func (s *Service) drive(e *caseEntry, p *Program, first func(context.Context) error) {
	defer s.drivers.Done()
	ctx := s.runCtx
	// A poke before kick is made is not lost: the loop looks at the case
	// once first returns.
	kick := make(chan struct{}, 1)
	e.mu.Lock()
	e.kick = kick
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		if e.kick == kick {
			e.kick = nil
		}
		e.mu.Unlock()
	}()
	ready := e.readyC()
	err := first(ctx)
	close(ready)
	e.mu.Lock()
	if e.ready == ready {
		e.ready = closed // one closed channel for every case held or parked
	}
	e.mu.Unlock()
	for {
		if ctx.Err() != nil {
			return // draining: the next Open picks the case up
		}
		if err != nil && !errors.Is(err, engine.ErrBusy) {
			// Whether the case started is the store's word on its
			// first events, which may still be on their way.
			s.log.sync(context.Background(), e.id)
			select {
			case <-e.startedC():
			default:
				// Nothing of the case is durable: it never started.
				p.eng.Forget(e.id)
				s.forget(e)
				e.markStarted(err)
				return
			}
			sum := e.summary()
			sum.Error = err.Error()
			e.set(sum)
			fmt.Fprintf(s.opts.Log, "knhk serve: case %s: %v\n", e.id, err)
			return
		}
		st, serr := p.eng.Snapshot(e.id)
		if serr == nil {
			// Nobody sees the state before the events that made it
			// are durable.
			serr = s.log.sync(context.Background(), e.id)
		}
		if serr != nil {
			select {
			case <-e.startedC():
			default:
				// Its events never reached the log: it never started.
				p.eng.Forget(e.id)
				s.forget(e)
				e.markStarted(serr)
				return
			}
			fmt.Fprintf(s.opts.Log, "knhk serve: case %s: %v\n", e.id, serr)
			return
		}
		e.set(summarize(p, e.summary(), st))
		if st.Done() {
			p.eng.Forget(e.id)
			return
		}
		if errors.Is(err, engine.ErrBusy) {
			err = p.eng.Run(ctx, e.id)
			continue
		}
		if parkable(st) && s.tryPark(ctx, e, p, st, kick) {
			return
		}
		var due <-chan time.Time
		var t *time.Timer
		if at, ok := p.eng.NextDue(e.id); ok {
			t = time.NewTimer(time.Until(at))
			due = t.C
		}
		select {
		case <-kick:
			err = nil // a signal or cancel ran the case; look again
		case <-due:
			err = p.eng.Run(ctx, e.id)
		case <-s.stop:
		}
		if t != nil {
			t.Stop()
		}
		select {
		case <-s.stop:
			return
		default:
		}
	}
}
