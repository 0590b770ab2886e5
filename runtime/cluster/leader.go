// This file implements the leader's engine: started when the node wins
// an election, it recovers every running case from the FSM and drives
// each one (timers, backoffs, task calls) until the node loses the lead.

package cluster

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/knhk/knhk/runtime/engine"
)

type leaderRun struct {
	ctx    context.Context
	cancel context.CancelFunc
	eng    *engine.Engine // of the node's own program
	n      *Node
	wg     sync.WaitGroup
	// ready is set once the barrier passed and the cases are recovered.
	ready bool

	mu      sync.Mutex
	stopped bool                      // set before wg.Wait: nothing more starts
	drivers map[string]chan struct{}  // kick channels of the driven cases
	flights map[string]*flight        // client requests in progress, by request id
	engs    map[string]*engine.Engine // of deployed programs, by hash, made when first needed
}

// engineFor returns the engine of program hash ("" or the node's own:
// eng), making it on first use.
func (l *leaderRun) engineFor(hash string) (*engine.Engine, error) {
	if hash == "" || hash == l.n.hash {
		return l.eng, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.engs[hash]; e != nil {
		return e, nil
	}
	p, ok := l.n.Program(hash)
	if !ok {
		return nil, fmt.Errorf("%w: the cluster has no program %s", ErrProgram, short(hash))
	}
	w := l.n.cfg.Worker
	if l.n.cfg.WorkerFor != nil {
		w = l.n.cfg.WorkerFor(p)
	}
	e, err := engine.New(engine.Config{Program: p, Eval: l.n.cfg.Eval, Worker: w, Clock: l.n.cfg.Clock, Log: &raftLog{n: l.n, hash: hash}})
	if err != nil {
		return nil, err
	}
	l.engs[hash] = e
	return e, nil
}

// caseEngine returns the engine of the program case id runs.
func (l *leaderRun) caseEngine(id string) (*engine.Engine, error) {
	return l.engineFor(l.n.fsm.CaseProgram(id))
}

// flight is a client request in progress on the leader: a second
// request with its id waits for its outcome instead of acting again.
type flight struct {
	done chan struct{}
	err  error
}

// claim registers request id, or returns the flight already under way
// with it (owner false).
func (l *leaderRun) claim(id string) (f *flight, owner bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f := l.flights[id]; f != nil {
		return f, false
	}
	f = &flight{done: make(chan struct{})}
	l.flights[id] = f
	return f, true
}

func (l *leaderRun) land(id string, f *flight, err error) {
	l.mu.Lock()
	delete(l.flights, id)
	l.mu.Unlock()
	f.err = err
	close(f.done)
}

// once runs do for request id unless a request with that id is under
// way, in which case it waits for that one's outcome.
func (l *leaderRun) once(ctx context.Context, id string, do func() error) error {
	if id == "" {
		return do()
	}
	f, owner := l.claim(id)
	if !owner {
		select {
		case <-f.done:
			return f.err
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrMaybeCommitted, ctx.Err())
		}
	}
	err := do()
	l.land(id, f, err)
	return err
}

func (n *Node) startLeading() {
	// Everything committed by earlier leaders must be in the FSM before
	// the engine reads it.
	if err := n.r.Barrier(5 * time.Second).Error(); err != nil {
		fmt.Fprintf(n.cfg.LogOutput, "cluster %s: barrier: %v\n", n.cfg.ID, err)
		return
	}
	eng, err := engine.New(engine.Config{Program: n.cfg.Program, Eval: n.cfg.Eval, Worker: n.cfg.Worker, Clock: n.cfg.Clock, Log: &raftLog{n: n, hash: n.hash}})
	if err != nil {
		fmt.Fprintf(n.cfg.LogOutput, "cluster %s: engine: %v\n", n.cfg.ID, err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &leaderRun{ctx: ctx, cancel: cancel, eng: eng, n: n, drivers: map[string]chan struct{}{}, flights: map[string]*flight{}, engs: map[string]*engine.Engine{}}
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		cancel()
		return
	}
	n.lead = l
	n.mu.Unlock()
	if q := n.cfg.Queue; q != nil {
		q.open()
	}
	for _, id := range n.fsm.Cases(true) {
		e, err := l.caseEngine(id)
		if err != nil {
			fmt.Fprintf(n.cfg.LogOutput, "cluster %s: case %s: %v\n", n.cfg.ID, id, err)
			continue
		}
		n.drive(l, e, id, func(ctx context.Context) error { return e.Recover(ctx, id) })
	}
	n.mu.Lock()
	l.ready = true
	n.mu.Unlock()
	n.tend(l)
}

func (n *Node) stopLeading() {
	n.mu.Lock()
	l := n.lead
	n.lead = nil
	n.mu.Unlock()
	if l == nil {
		return
	}
	l.mu.Lock()
	l.stopped = true
	l.mu.Unlock()
	l.cancel()
	if q := n.cfg.Queue; q != nil {
		// After cancel, so the engine's submissions are withdrawn, not
		// failed as closed; the pollers end now.
		q.close()
	}
	l.wg.Wait()
}

// leader returns the running leader engine, or a *NotLeaderError.
func (n *Node) leader() (*leaderRun, error) {
	n.mu.Lock()
	l := n.lead
	n.mu.Unlock()
	if l == nil || !l.ready {
		return nil, n.notLeader()
	}
	return l, nil
}

// drive runs case id: first starts or recovers it, then the case is run
// whenever a timer or backoff comes due or kick is signalled, until it
// ends or the node stops leading. It returns first's outcome on started
// once first returns.
func (n *Node) drive(l *leaderRun, eng *engine.Engine, id string, first func(context.Context) error) <-chan error {
	kick := make(chan struct{}, 1)
	started := make(chan error, 1)
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		started <- n.notLeader()
		return started
	}
	if _, ok := l.drivers[id]; ok {
		// Two starts of one case raced past the FSM's look: one
		// driver per case, or the case would run twice.
		l.mu.Unlock()
		started <- fmt.Errorf("%w: %s", ErrCaseExists, id)
		return started
	}
	l.drivers[id] = kick
	l.wg.Add(1) // under mu, so that stopLeading's Wait sees it
	l.mu.Unlock()
	go func() {
		defer l.wg.Done()
		defer func() {
			l.mu.Lock()
			if l.drivers[id] == kick {
				delete(l.drivers, id)
			}
			l.mu.Unlock()
		}()
		ctx := l.ctx
		err := first(ctx)
		if err != nil && !errors.Is(err, engine.ErrBusy) {
			if _, _, ok := n.fsm.Case(id); !ok {
				// Never started (the log refused it): the driver is
				// gone before the caller hears so, or a start of the
				// same id right after would find it and wait for a
				// case that will not come.
				l.mu.Lock()
				if l.drivers[id] == kick {
					delete(l.drivers, id)
				}
				l.mu.Unlock()
				started <- err
				return
			}
		}
		started <- err
		retry := 10 * time.Millisecond
		for ctx.Err() == nil {
			if err != nil && !errors.Is(err, engine.ErrBusy) {
				if _, _, ok := n.fsm.Case(id); !ok {
					return // never started
				}
				// A failed commit (a lost quorum, a timeout) leaves the
				// engine's copy unsure; start again from the FSM's.
				fmt.Fprintf(n.cfg.LogOutput, "cluster %s: case %s: %v\n", n.cfg.ID, id, err)
				select {
				case <-time.After(retry):
				case <-ctx.Done():
					return
				}
				retry = min(2*retry, time.Second)
				err = eng.Recover(ctx, id)
				continue
			}
			if errors.Is(err, engine.ErrBusy) {
				err = eng.Run(ctx, id)
				continue
			}
			st, serr := eng.Snapshot(id)
			if serr != nil {
				return
			}
			if st.Done() {
				eng.Forget(id)
				return
			}
			err = AwaitCase(ctx, eng, id, kick)
		}
	}()
	return started
}

func (l *leaderRun) kick(id string) {
	l.mu.Lock()
	k := l.drivers[id]
	l.mu.Unlock()
	if k != nil {
		select {
		case k <- struct{}{}:
		default:
		}
	}
}

// tend keeps the leader's own member record current and reconsiders the
// voters (see placement.go).
func (n *Node) tend(l *leaderRun) {
	if !l.ready {
		return
	}
	self := Member{ID: n.cfg.ID, Raft: n.raftAddr(), API: n.cfg.API, Labels: n.cfg.Labels}
	if m, ok := n.fsm.Members()[self.ID]; !ok || !sameMember(m, self) {
		if _, err := n.propose(l.ctx, &Command{Op: OpMember, Program: n.hash, Member: &self}); err != nil {
			fmt.Fprintf(n.cfg.LogOutput, "cluster %s: recording itself: %v\n", n.cfg.ID, err)
			return
		}
	}
	if err := n.rebalance(l.ctx); err != nil {
		fmt.Fprintf(n.cfg.LogOutput, "cluster %s: placement: %v\n", n.cfg.ID, err)
	}
}

func sameMember(a, b Member) bool {
	return a.ID == b.ID && a.Raft == b.Raft && a.API == b.API && a.Remove == b.Remove && (len(a.Labels) == 0 && len(b.Labels) == 0 || reflect.DeepEqual(a.Labels, b.Labels))
}

// spawn runs f in a goroutine that stopLeading waits for, unless the
// leader has stopped.
func (l *leaderRun) spawn(f func()) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return false
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		f()
	}()
	return true
}
