// This file implements the FSM: every replica's copy of every case,
// advanced by committed commands through engine.Machine.Apply.

package cluster

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/hashicorp/raft"

	"github.com/knhk/knhk/runtime/engine"
)

// ErrConflict is the outcome of an event proposed at a position its case
// has already passed (or not reached): another leader appended there, or
// the proposer is behind. The event is not applied.
var ErrConflict = errors.New("event position conflict")

// ErrProgram is the outcome of a command of another program than the
// cluster's.
var ErrProgram = errors.New("program version mismatch")

// maxRequests is how many request ids the FSM remembers; an older id is
// forgotten, so a retry must come within that many client commands.
const maxRequests = 1 << 16

// Result is what applying a command answered, returned through raft's
// ApplyFuture.Response.
type Result struct {
	Index uint64 // the raft index of the command that did the work
	Err   error  // why it was refused, nil when applied
	// Dup is set when the request id had been applied already; Index
	// and Err are then the first application's.
	Dup bool
	// Audited is set when the command carried its request's audit
	// record and the chain took it (auditride.go).
	Audited bool
}

type replica struct {
	s       engine.State
	n       uint64 // events applied
	started int64  // the start event's time (Unix nanoseconds)
	// evs are the case's events from event number base on, as committed
	// (see events.go); base is 0 unless the case came from a snapshot
	// written before events were kept.
	evs  []Event
	base uint64
	key  string // the business key its start carried, "" for none
	// prog is the hash of the program the case runs when it is not the
	// node's own (a deployed one), "" for the node's own.
	prog string
}

type outcome struct {
	Index uint64 `json:"i"`
	Err   string `json:"e,omitempty"`
}

// FSM is the replicated state machine: a raft.FSM whose state is the
// cases of one program. Its reads are safe while raft applies.
type FSM struct {
	m    *engine.Machine
	prog string

	mu      sync.RWMutex
	cases   map[string]*replica
	reqs    map[string]outcome
	order   []string // request ids, oldest first, at most maxRequests
	members map[string]*Member
	keys    map[string]string // business key -> case id
	// progs are the programs by hash: the node's own and those deployed
	// through the log (deploys, in order); compile compiles a deploy.
	progs   map[string]*program
	deploys []string
	compile Compiler
	// verify admits a deploy's signature (deploy.go); nil admits all.
	verify DeployVerifier
	// nonces are the requests' one-time keys the log used (nonce.go).
	nonces nonceSet
	// observe, when set, sees every event applied (metrics).
	observe func(*engine.Event)
	applied uint64
	// changed is closed at the next applied event, for watchers; nil
	// while nobody waits (see events.go).
	changed chan struct{}
	// broken is set when the log holds what this replica cannot apply
	// the way every other one does (another program): it then applies
	// nothing more.
	broken error
	// events counts the events applied, and restores the snapshots
	// restored, for tests and metrics.
	events, restores uint64
	// sh is the incremental state hash (statehash.go).
	sh stateHasher
	// ten is the cluster's tenancy (tenancy.go).
	ten tenancyState
	// aud is the cluster's audit chain (audit.go).
	aud auditChain
	// acc is the accelerator time the log carried (meter.go).
	acc accelLog
	// ers are the erased cases' tombstones (erase.go).
	ers erasures
}

// NewFSM returns an empty FSM for the program of m, whose hash is prog.
func NewFSM(m *engine.Machine, prog string) *FSM {
	return &FSM{m: m, prog: prog, cases: map[string]*replica{}, reqs: map[string]outcome{}, members: map[string]*Member{}, keys: map[string]string{},
		progs: map[string]*program{prog: {hash: prog, m: m}}}
}

// Apply applies one committed log entry.
func (f *FSM) Apply(l *raft.Log) (res any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applied = l.Index
	if l.Type != raft.LogCommand {
		return nil
	}
	if f.broken != nil {
		return &Result{Index: l.Index, Err: f.broken}
	}
	c, err := DecodeCommand(l.Data)
	if err != nil {
		// A leader proposes only what decodes: this entry was damaged
		// on disk or on the way, and skipping it would let this replica
		// drift from the others.
		f.broken = fmt.Errorf("log entry %d: %w", l.Index, err)
		return &Result{Index: l.Index, Err: f.broken}
	}
	if _, ok := f.progs[c.Program]; !ok {
		// Every replica of one cluster runs one program and those
		// deployed through the log before the command, so this replica
		// is the odd one out: applying nothing more keeps it from
		// serving a history it cannot reproduce.
		f.broken = fmt.Errorf("%w: the log holds commands of program %s, this node runs %s", ErrProgram, short(c.Program), short(f.prog))
		return &Result{Index: l.Index, Err: f.broken}
	}
	if c.Op != OpAudit && c.Audit != nil {
		// The request's record, chained with the outcome (auditride.go).
		defer func() { f.chainRide(c, res.(*Result)) }()
	}
	if c.Op != OpMeter {
		// Spent whatever the command's outcome (meter.go); an OpMeter's
		// time is its payload, counted in apply once per request id.
		f.acc.add(c.Accel, l.Index)
	}
	if err := f.useNonce(c.Nonce, c.ReqID); err != nil {
		return &Result{Index: l.Index, Err: err}
	}
	if c.ReqID != "" {
		if o, ok := f.reqs[c.ReqID]; ok {
			r := &Result{Index: o.Index, Dup: true}
			if o.Err != "" {
				r.Err = errors.New(o.Err)
			}
			return r
		}
	}
	r := &Result{Index: l.Index, Err: f.apply(c, l.Index)}
	if c.ReqID != "" {
		o := outcome{Index: l.Index}
		if r.Err != nil {
			o.Err = r.Err.Error()
		}
		f.remember(c.ReqID, o)
	}
	return r
}

func (f *FSM) apply(c *Command, index uint64) error {
	switch c.Op {
	case OpMember:
		// A removed member stays, marked, so that its id is never
		// accepted again.
		m := *c.Member
		f.members[m.ID] = &m
		return nil
	case OpDeploy:
		return f.applyDeploy(c.Deploy, index)
	case OpTenant:
		return f.applyTenancy(c.Tenancy, index)
	case OpAudit:
		return f.applyAudit(c.Audit)
	case OpMeter:
		f.acc.add(c.Accel, index)
		return nil
	case OpErase:
		return f.applyErase(c.Case, index)
	case OpEvent:
		if err := f.erasedErr(c.Case); err != nil {
			return err
		}
		r := f.cases[c.Case]
		var n uint64
		if r != nil {
			n = r.n
		}
		if c.Pos != n {
			return fmt.Errorf("%w: case %s has %d events, the command appends event %d", ErrConflict, c.Case, n, c.Pos)
		}
		ev, err := engine.DecodeEvent(c.Event)
		if err != nil {
			f.broken = fmt.Errorf("%w: case %s event %d: %v", ErrBadCommand, c.Case, c.Pos, err)
			return f.broken
		}
		if r == nil {
			if other, ok := f.keys[c.Key]; c.Key != "" && ok {
				return fmt.Errorf("%w: business key %q names case %s", ErrKeyInUse, c.Key, other)
			}
			r = &replica{s: engine.State{ID: c.Case}, started: ev.Time, key: c.Key}
			if c.Program != f.prog {
				r.prog = c.Program
			}
		} else if h := f.hashOf(r); h != c.Program {
			return fmt.Errorf("%w: case %s runs program %s, the event is of program %s", ErrConflict, c.Case, short(h), short(c.Program))
		}
		f.touchCase(c.Case)
		// Apply leaves the state unchanged when it refuses the event.
		if err := f.machineOf(r).Apply(&r.s, ev); err != nil {
			return fmt.Errorf("case %s: %w", c.Case, err)
		}
		r.n++
		r.evs = append(r.evs, Event{Index: index, Data: c.Event})
		if f.observe != nil {
			f.observe(ev)
		}
		if r.n == 1 && r.key != "" {
			f.keys[r.key] = c.Case
		}
		f.cases[c.Case] = r
		f.events++
		f.notify()
		return nil
	}
	return fmt.Errorf("%w: unknown op %s", ErrBadCommand, c.Op)
}

func (f *FSM) remember(id string, o outcome) { f.rememberUpTo(id, o, maxRequests) }

// rememberUpTo remembers request id's outcome o in a FIFO of at most
// limit ids (remember's is maxRequests; a test's is smaller).
func (f *FSM) rememberUpTo(id string, o outcome, limit int) {
	f.rememberHash(id, o, limit)
	if len(f.order) >= limit {
		delete(f.reqs, f.order[0])
		f.order = f.order[1:]
	}
	f.reqs[id] = o
	f.order = append(f.order, id)
}

// Request returns the outcome of request id, false when it has not been
// applied (or is long forgotten).
func (f *FSM) Request(id string) (Result, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	o, ok := f.reqs[id]
	if !ok {
		return Result{}, false
	}
	r := Result{Index: o.Index, Dup: true}
	if o.Err != "" {
		r.Err = errors.New(o.Err)
	}
	return r, true
}

// Case returns a copy of the state of case id and how many events it
// folds.
func (f *FSM) Case(id string) (*engine.State, uint64, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	r := f.cases[id]
	if r == nil {
		return nil, 0, false
	}
	return r.s.Clone(), r.n, true
}

// Encoded returns the snapshot encoding of case id (see
// [engine.Machine.EncodeState]).
func (f *FSM) Encoded(id string) ([]byte, bool, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	r := f.cases[id]
	if r == nil {
		return nil, false, nil
	}
	b, err := f.machineOf(r).EncodeState(&r.s, r.n)
	return b, true, err
}

// Events returns how many events case id holds.
func (f *FSM) Events(id string) uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if r := f.cases[id]; r != nil {
		return r.n
	}
	return 0
}

// Cases lists the ids of the cases, sorted; with running, only those
// that have not ended.
func (f *FSM) Cases(running bool) []string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []string
	for id, r := range f.cases {
		if !running || !r.s.Done() {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// Members returns the recorded members, by id.
func (f *FSM) Members() map[string]Member {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make(map[string]Member, len(f.members))
	for id, m := range f.members {
		out[id] = *m
	}
	return out
}

// Applied returns the index of the last applied entry and the number of
// events applied since the FSM was made or restored.
func (f *FSM) Applied() (index, events uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.applied, f.events
}

// Broken returns why the FSM stopped applying, nil while it applies.
func (f *FSM) Broken() error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.broken
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// Started returns when case id started (Unix nanoseconds, the time its
// start event recorded), 0 for a case the FSM does not hold.
func (f *FSM) Started(id string) int64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if r := f.cases[id]; r != nil {
		return r.started
	}
	return 0
}
