// This file implements the driver: the engine beside one validator that
// decides events (timers, task calls and their results) and proposes
// them as transactions, case by case.

package bft

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/engine"
)

// Driver runs the cases of one validator's App on an engine whose log
// is the chain, for one term of the lease.
type Driver struct {
	app *App
	// tenant is the space the driver runs ("" for the cluster's own;
	// space.go).
	tenant string
	eng    *engine.Engine // of the validators' own program
	log    *Log
	ctx    context.Context
	term   uint64
	// eval and worker are what eng runs with; workerOf, when set,
	// returns the task worker of a deployed program (deploy.go), whose
	// engines engs holds by hash, made when first needed.
	eval     engine.Evaluator
	worker   engine.Worker
	workerOf func(*ir.Program) engine.Worker

	mu    sync.Mutex
	kicks map[string]chan struct{}
	engs  map[string]*engine.Engine
	// flights are the calls with a request id under way (see once):
	// each one's channel closes when it ends.
	flights map[string]chan struct{}
	wg      sync.WaitGroup
	// sigs are the Signal calls waiting for their event's block.
	sigs *signalWaits
}

// NewDriver returns a driver for l.App whose engine evaluates with eval,
// runs tasks with w and proposes through l, at l's term. ctx bounds its
// life: a [Standby] ends it when the lease of its term is lost.
func NewDriver(ctx context.Context, prog *ir.Program, eval engine.Evaluator, w engine.Worker, l *Log) (*Driver, error) {
	eng, err := engine.New(engine.Config{Program: prog, Eval: eval, Worker: w, Log: l})
	if err != nil {
		return nil, err
	}
	d := &Driver{app: l.App, tenant: l.Tenant, eng: eng, log: l, ctx: ctx, term: l.Term, eval: eval, worker: w, kicks: map[string]chan struct{}{}, engs: map[string]*engine.Engine{}, flights: map[string]chan struct{}{}, sigs: &signalWaits{m: map[string][]chan error{}}}
	l.appended = d.sigs.appended
	return d, nil
}

// fsm is the state of the driver's space.
func (d *Driver) fsm() *cluster.FSM { return d.app.Space(d.tenant) }

// Tenant returns the tenant whose space the driver runs, "" for the
// cluster's own.
func (d *Driver) Tenant() string { return d.tenant }

// Term returns the lease's term the driver proposes at.
func (d *Driver) Term() uint64 { return d.term }

// engineFor returns the engine of program hash ("" or the validators'
// own: eng), making it on first use.
func (d *Driver) engineFor(hash string) (*engine.Engine, error) {
	if hash == "" || hash == d.app.prog {
		return d.eng, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if e := d.engs[hash]; e != nil {
		return e, nil
	}
	var p *ir.Program
	for _, dp := range d.fsm().Deployed() {
		if dp.Hash == hash {
			p = dp.Program
		}
	}
	if p == nil {
		return nil, fmt.Errorf("%w: the chain has no program %s", cluster.ErrProgram, short(hash))
	}
	w := d.worker
	if d.workerOf != nil {
		w = d.workerOf(p)
	}
	l := *d.log
	l.Program = hash
	e, err := engine.New(engine.Config{Program: p, Eval: d.eval, Worker: w, Log: &l})
	if err != nil {
		return nil, err
	}
	d.engs[hash] = e
	return e, nil
}

// caseEngine returns the engine of the program case id runs.
func (d *Driver) caseEngine(id string) (*engine.Engine, error) {
	return d.engineFor(d.fsm().CaseProgram(id))
}

// Recover drives every case of the chain that has not ended.
func (d *Driver) Recover() {
	for _, id := range d.fsm().Cases(true) {
		eng, err := d.caseEngine(id)
		if err != nil {
			continue // a program the FSM holds has its engine
		}
		d.drive(id, eng, func(ctx context.Context) error { return eng.Recover(ctx, id) })
	}
}

// Wait waits for the cases the driver runs to stop (after its context
// ends).
func (d *Driver) Wait() { d.wg.Wait() }

// Start starts case id and returns once its start is in a block.
func (d *Driver) Start(ctx context.Context, id, wf string, args []any) error {
	return d.StartProgram(ctx, "", id, wf, args)
}

// StartProgram starts case id of program hash ("" for the validators'
// own, else one deployed on the chain) and returns once its start is in
// a block.
func (d *Driver) StartProgram(ctx context.Context, hash, id, wf string, args []any) error {
	if d.fsm().Events(id) > 0 {
		return fmt.Errorf("case %s exists", id)
	}
	eng, err := d.engineFor(hash)
	if err != nil {
		return err
	}
	// The call's one-time keys ride in its start (cluster's nonce.go).
	nctx := cluster.CarryAudit(cluster.CarryNonce(d.ctx, ctx), ctx) // and its audit record
	first := d.drive(id, eng, func(context.Context) error { return eng.Start(nctx, id, wf, args) })
	return d.until(ctx, first, func() bool { return d.fsm().Events(id) > 0 })
}

// Signal delivers a signal and returns once its own event is in a block
// (not merely some event of the case: a task's result may land first,
// and a signal acknowledged before its block could be lost with the
// driver). A non-empty reqID makes a retry safe: the block carries it,
// and a call with an id the chain already applied answers that outcome
// and delivers nothing.
func (d *Driver) Signal(ctx context.Context, reqID, id, name string, payload []any) error {
	if reqID == "" {
		return d.signal(ctx, nil, id, name, payload)
	}
	return d.once(ctx, reqID, func(s *reqSlot) error { return d.signal(ctx, s, id, name, payload) })
}

func (d *Driver) signal(ctx context.Context, slot *reqSlot, id, name string, payload []any) error {
	if d.fsm().Events(id) == 0 {
		return fmt.Errorf("%w %s", engine.ErrUnknownCase, id)
	}
	eng, err := d.caseEngine(id)
	if err != nil {
		return err
	}
	committed := d.sigs.wait(id, name)
	first := make(chan error, 1)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		c := cluster.CarryAudit(cluster.CarryNonce(d.ctx, ctx), ctx) // the call's one-time keys and audit record ride in its signal
		if slot != nil {
			c = withReq(c, slot)
		}
		first <- eng.Signal(c, id, name, payload)
		d.kick(id)
	}()
	select {
	case err := <-committed:
		return d.deposed(err)
	case err := <-first:
		// The engine appends the signal before it returns, so its
		// outcome is known unless nothing was appended.
		select {
		case cerr := <-committed:
			return d.deposed(cerr)
		default:
		}
		d.sigs.forget(id, name, committed)
		if err == nil {
			err = fmt.Errorf("case %s has ended: signal %s not delivered", id, name)
		}
		return d.deposed(err)
	case <-ctx.Done():
		d.sigs.forget(id, name, committed)
		return ctx.Err()
	}
}

// deposed turns the error of a call on a driver whose term has ended
// into ErrDeposed: the call may be made again on the next driver.
func (d *Driver) deposed(err error) error {
	if err != nil && d.ctx.Err() != nil && !errors.Is(err, ErrDeposed) {
		return fmt.Errorf("%w: the driver of term %d stopped (%v)", ErrDeposed, d.term, err)
	}
	return err
}

// Cancel cancels case id and returns once its cancellation is in a
// block (at once for a case that has ended).
func (d *Driver) Cancel(ctx context.Context, id string) error {
	st, _, ok := d.fsm().Case(id)
	if !ok {
		return fmt.Errorf("%w %s", engine.ErrUnknownCase, id)
	}
	if st.Done() {
		return nil
	}
	eng, err := d.caseEngine(id)
	if err != nil {
		return err
	}
	first := make(chan error, 1)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		first <- eng.Cancel(cluster.CarryAudit(cluster.CarryNonce(d.ctx, ctx), ctx), id)
		d.kick(id)
	}()
	// Done, not "one more event": another event of the case (a timer
	// armed by its run) may land first.
	return d.until(ctx, first, func() bool {
		st, _, _ := d.fsm().Case(id)
		return st != nil && st.Done()
	})
}

func (d *Driver) until(ctx context.Context, first <-chan error, done func() bool) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if done() {
			return nil
		}
		select {
		case err := <-first:
			if done() {
				return nil
			}
			if d.ctx.Err() != nil {
				// The driver's term ended (another validator took the
				// lease): the call may be made again on the next driver.
				return fmt.Errorf("%w: the driver of term %d stopped", ErrDeposed, d.term)
			}
			if err == nil {
				err = errors.New("the call ended without committing its event")
			}
			return err
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (d *Driver) kick(id string) {
	d.mu.Lock()
	k := d.kicks[id]
	d.mu.Unlock()
	if k != nil {
		select {
		case k <- struct{}{}:
		default:
		}
	}
}

// drive runs case id of engine eng from first on, firing its timers,
// until it ends or the driver's context does.
func (d *Driver) drive(id string, eng *engine.Engine, first func(context.Context) error) <-chan error {
	started := make(chan error, 1)
	kick := make(chan struct{}, 1)
	d.mu.Lock()
	if _, ok := d.kicks[id]; ok {
		d.mu.Unlock()
		started <- fmt.Errorf("case %s exists", id)
		return started
	}
	d.kicks[id] = kick
	d.wg.Add(1)
	d.mu.Unlock()
	go func() {
		defer d.wg.Done()
		forget := func() {
			d.mu.Lock()
			if d.kicks[id] == kick {
				delete(d.kicks, id)
			}
			d.mu.Unlock()
		}
		defer forget()
		err := first(d.ctx)
		if err != nil && !errors.Is(err, engine.ErrBusy) && d.fsm().Events(id) == 0 {
			// Nothing of the case was written: forget it before the
			// caller hears, so that a start made again at once is not
			// refused as one of a case that exists.
			forget()
			started <- err
			return
		}
		started <- err
		for d.ctx.Err() == nil {
			if err != nil && !errors.Is(err, engine.ErrBusy) {
				if d.fsm().Events(id) == 0 {
					return
				}
				select {
				case <-time.After(100 * time.Millisecond):
				case <-d.ctx.Done():
					return
				}
				err = eng.Recover(d.ctx, id)
				continue
			}
			if errors.Is(err, engine.ErrBusy) {
				err = eng.Run(d.ctx, id)
				continue
			}
			st, serr := eng.Snapshot(id)
			if serr != nil || st.Done() {
				eng.Forget(id)
				return
			}
			err = cluster.AwaitCase(d.ctx, eng, id, kick)
		}
	}()
	return started
}
