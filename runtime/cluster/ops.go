// This file implements what clients ask of the cluster: start, signal
// and cancel a case (on the leader, idempotent by request id) and read
// one (linearizable on the leader, or stale on any node when asked).

package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/knhk/knhk/runtime/engine"
)

// ErrCaseExists is returned when a start names a case that exists.
var ErrCaseExists = errors.New("case exists")

// Start starts case id of workflow wf with args, and returns once its
// start is committed. A retry with the same reqID answers what the first
// attempt did.
func (n *Node) Start(ctx context.Context, reqID, id, wf string, args []any) error {
	_, err := n.StartKeyed(ctx, reqID, "", id, wf, args)
	return err
}

// StartKeyed is Start with a business key: the start carries key, which
// the FSM binds to case id for good. When key already names a case, it
// starts nothing and returns that case's id with an error wrapping
// [ErrCaseExists]; otherwise it returns id.
func (n *Node) StartKeyed(ctx context.Context, reqID, key, id, wf string, args []any) (string, error) {
	return n.StartIn(ctx, "", reqID, key, id, wf, args)
}

// StartIn is StartKeyed for a case of program hash, one deployed
// through the log ("" for the node's own). The case runs that program
// to its end, whatever is deployed later.
func (n *Node) StartIn(ctx context.Context, program, reqID, key, id, wf string, args []any) (string, error) {
	l, err := n.leader()
	if err != nil {
		return "", err
	}
	eng, err := l.engineFor(program)
	if err != nil {
		return "", err
	}
	if key != "" {
		if other, ok := n.fsm.ByKey(key); ok {
			return other, fmt.Errorf("%w: business key %q names case %s", ErrCaseExists, key, other)
		}
	}
	err = l.once(ctx, reqID, func() error {
		if r, ok := n.fsm.Request(reqID); reqID != "" && ok {
			return r.Err
		}
		if _, _, ok := n.fsm.Case(id); ok {
			return fmt.Errorf("%w: %s", ErrCaseExists, id)
		}
		if n.cfg.AdmitStart != nil {
			release, err := n.cfg.AdmitStart(wf)
			if err != nil {
				return NotAdmitted(err)
			}
			defer release()
		}
		slot := newSlot(reqID)
		slot.key, slot.nonce = key, takeNonce(ctx)
		var aerr error
		if slot.audit, slot.rider, aerr = takeAudit(ctx, n.fsm); aerr != nil {
			return aerr // its audit record (auditride.go)
		}
		started := n.drive(l, eng, id, func(c context.Context) error { return eng.Start(withSlot(c, slot), id, wf, args) })
		return waitSlot(ctx, slot, started)
	})
	if errors.Is(err, ErrKeyInUse) {
		// Another start with the key committed first.
		if other, ok := n.fsm.ByKey(key); ok {
			return other, fmt.Errorf("%w: business key %q names case %s", ErrCaseExists, key, other)
		}
	}
	if errors.Is(err, ErrCaseExists) {
		// Another start of the same case (the same business key) may
		// still be in flight: "it exists" is only said once it does.
		if werr := n.awaitStarted(ctx, id); werr != nil {
			return id, werr
		}
	}
	return id, err
}

// awaitStarted waits until case id is in the FSM, at most 30 seconds;
// after that the caller may retry.
func (n *Node) awaitStarted(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		changed := n.fsm.Changed()
		if _, _, ok := n.fsm.Case(id); ok {
			return nil
		}
		select {
		case <-changed:
		case <-time.After(100 * time.Millisecond):
			if _, err := n.leader(); err != nil {
				// The other start may have failed with the lead.
				return fmt.Errorf("%w: %w", ErrMaybeCommitted, err)
			}
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrMaybeCommitted, ctx.Err())
		}
	}
}

// errNotCommitted is the engine's call returning without appending the
// request's event.
var errNotCommitted = errors.New("the call ended without committing its request")

// waitSlot waits until the request's first event committed, or the call
// that should append it returned without doing so.
func waitSlot(ctx context.Context, slot *reqSlot, first <-chan error) error {
	select {
	case err := <-slot.done:
		if err != nil {
			// The log refused the request. Its call is still returning:
			// wait for it, so that a retry does not find it running (a
			// start's driver still holding the case's id).
			select {
			case <-first:
			case <-ctx.Done():
			}
		}
		return err
	case err := <-first:
		select {
		case e := <-slot.done:
			return e
		default:
		}
		if err == nil {
			// Nothing says whether it ever will (a case that ended
			// meanwhile ignores it): the caller may retry.
			err = fmt.Errorf("%w: %w", ErrMaybeCommitted, errNotCommitted)
		}
		return err
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrMaybeCommitted, ctx.Err())
	}
}

// Signal delivers signal name with payload to case id and returns once
// the signal is committed; a case that has ended ignores it, as a
// single node does.
func (n *Node) Signal(ctx context.Context, reqID, id, name string, payload []any) error {
	return n.toCase(ctx, reqID, id, func(eng *engine.Engine, c context.Context) error {
		return eng.Signal(c, id, name, payload)
	})
}

// Cancel cancels case id and returns once the cancellation is committed.
func (n *Node) Cancel(ctx context.Context, reqID, id string) error {
	return n.toCase(ctx, reqID, id, func(eng *engine.Engine, c context.Context) error {
		return eng.Cancel(c, id)
	})
}

func (n *Node) toCase(ctx context.Context, reqID, id string, do func(*engine.Engine, context.Context) error) error {
	l, err := n.leader()
	if err != nil {
		return err
	}
	return l.once(ctx, reqID, func() error {
		if r, ok := n.fsm.Request(reqID); reqID != "" && ok {
			return r.Err
		}
		st, _, ok := n.fsm.Case(id)
		if !ok {
			// A leader cut off from the majority still believes it
			// leads until its lease runs out, and the majority may have
			// started the case meanwhile: "no such case" is a read, and
			// answered only once the node confirms it leads (found by
			// the linearizability test).
			if err := n.r.VerifyLeader().Error(); err != nil {
				return n.raftErr(err)
			}
			if st, _, ok = n.fsm.Case(id); !ok {
				return fmt.Errorf("%w %s", engine.ErrUnknownCase, id)
			}
		}
		if st.Done() {
			return nil
		}
		eng, err := l.caseEngine(id)
		if err != nil {
			return err
		}
		slot := newSlot(reqID)
		slot.nonce = takeNonce(ctx)
		var aerr error
		if slot.audit, slot.rider, aerr = takeAudit(ctx, n.fsm); aerr != nil {
			return aerr // its audit record (auditride.go)
		}
		first := make(chan error, 1)
		// The engine runs the case on from the event until it waits
		// again; the caller waits only for the event.
		if !l.spawn(func() {
			err := do(eng, withSlot(l.ctx, slot))
			first <- err
			l.kick(id)
		}) {
			return n.notLeader()
		}
		err = waitSlot(ctx, slot, first)
		if errors.Is(err, engine.ErrUnknownCase) {
			if st, _, ok := n.fsm.Case(id); ok && !st.Done() {
				// A new leader's engine has not recovered the case yet
				// (startLeading recovers them in the background): nothing
				// was applied, and the call may be retried. Answering
				// nil here lost a signal after a failover (found by the
				// tenant groups' test).
				return fmt.Errorf("%w: case %s is still being recovered by the new leader", ErrMaybeCommitted, id)
			}
			// Ended and forgotten by the engine between the two looks.
			return nil
		}
		if errors.Is(err, errNotCommitted) {
			// Ended between the two looks, and the engine ignored the
			// call, as a single node does (found by the process-level
			// Jepsen test: this was a 400 to a signal).
			if st, _, ok := n.fsm.Case(id); ok && st.Done() {
				return nil
			}
		}
		return err
	})
}

// Consistency says how a read is served.
type Consistency int

const (
	// Linearizable reads on the leader after it confirms it leads: the
	// answer reflects every write acknowledged before the read began.
	Linearizable Consistency = iota
	// Stale reads the node's own copy, which may lag the leader's.
	Stale
)

// View is a case as a read saw it.
type View struct {
	State  *engine.State
	Events uint64
	// Started is when the case started (Unix nanoseconds).
	Started int64
	// Node is the node that answered; Staleness, for a stale read on a
	// follower, how long since it last heard from the leader, and Lag
	// how many committed entries it had not applied yet.
	Node      string
	Staleness time.Duration
	Lag       uint64
}

// Get reads case id.
func (n *Node) Get(ctx context.Context, id string, c Consistency) (*View, error) {
	v := &View{Node: n.cfg.ID}
	if c == Linearizable {
		if _, err := n.leader(); err != nil {
			return nil, err
		}
		if err := n.r.VerifyLeader().Error(); err != nil {
			return nil, n.raftErr(err)
		}
	} else if n.r.State() != raft.Leader {
		if err := n.StaleReady(ctx); err != nil {
			return nil, err
		}
		if lc := n.r.LastContact(); !lc.IsZero() {
			v.Staleness = time.Since(lc)
		}
		if ci, ai := n.r.CommitIndex(), n.r.AppliedIndex(); ci > ai {
			v.Lag = ci - ai
		}
	}
	st, events, ok := n.fsm.Case(id)
	if !ok {
		if err := n.fsm.Erased(id); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w %s", engine.ErrUnknownCase, id)
	}
	v.State, v.Events, v.Started = st, events, n.fsm.Started(id)
	return v, nil
}

// raftAddr is the address the other nodes reach this node's raft on.
func (n *Node) raftAddr() string { return string(n.trans.LocalAddr()) }

// VerifyLeader returns nil once this node has confirmed with a quorum
// that it leads and runs the engine, so that what it reads next from
// its FSM reflects every write acknowledged before: the check a
// linearizable read makes.
func (n *Node) VerifyLeader() error {
	if _, err := n.leader(); err != nil {
		return err
	}
	if err := n.r.VerifyLeader().Error(); err != nil {
		return n.raftErr(err)
	}
	return nil
}

// Machine returns the engine's state machine of the node's program, to
// fold a case's events as the FSM does.
func (n *Node) Machine() *engine.Machine { return n.fsm.m }
