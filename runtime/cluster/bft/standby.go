// This file implements the standby: beside every validator that may
// drive, it claims the driver's lease when the holder's has lapsed,
// renews it while it holds it, and runs a Driver exactly for the terms
// the committed lease names this validator.

package bft

import (
	"context"
	"sync"
	"time"

	"github.com/cometbft/cometbft/crypto"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
)

// StandbyConfig configures a [Standby].
type StandbyConfig struct {
	App  *App
	Node Broadcaster
	// Key is the validator's consensus key: it signs the lease and the
	// events.
	Key crypto.PrivKey
	// API is where this validator takes writes (host:port of its knhk
	// API), written in its lease so that the others forward to it.
	API     string
	Program *ir.Program
	Eval    engine.Evaluator
	Worker  engine.Worker
	// WorkerFor, when set, returns the task worker of a tenant's space
	// (space.go); without it a tenant's driver uses Worker.
	WorkerFor func(tenant string) engine.Worker
	// ProgramWorker, when set, returns the task worker of a program
	// deployed on the chain (deploy.go); without it its cases use
	// Worker.
	ProgramWorker func(p *ir.Program) engine.Worker
	// Live, when set, says whether a tenant's space is still served (a
	// deleted tenant's is not): the standby drives no space that is not,
	// and stops the driver of one that no longer is.
	Live func(tenant string) bool
	// Tick is how often the standby looks at the lease; a quarter of the
	// lease's length when 0.
	Tick time.Duration
	// OnTerm, when set, is told each term this validator starts (with
	// its driver) or stops driving (nil).
	OnTerm func(term uint64, d *Driver)
	// Syncing, when set, says the node is still catching up with the
	// chain (CometBFT's block sync): the lease it has applied is an old
	// one, so the standby neither claims nor drives until it is done.
	Syncing func() bool
}

// Standby runs a validator's part in choosing the driver. The choice is
// the committed lease's: a validator drives while the lease of the
// latest term names it, so at most one validator's events are ever
// applied per term, and a driver that lost its lease has its events
// refused by the block (ErrDeposed) before it learns so itself.
type Standby struct {
	cfg  StandbyConfig
	addr string

	mu   sync.Mutex
	d    *Driver
	stop context.CancelFunc
	// dctx is the context of d's term; tds are the drivers of the
	// tenants' spaces at that term, made on their first call
	// (TenantDriver) and stopped with d.
	dctx    context.Context
	tds     map[string]*tenantDriver
	renewed time.Time // when this validator last sent a renewal
	claimed time.Time // when it last sent a claim
	// seen is the lease as this standby last saw it change, at seenAt
	// by its own clock.
	seen   Lease
	seenAt time.Time
}

// NewStandby returns the standby of cfg.App's validator.
func NewStandby(cfg StandbyConfig) *Standby {
	return &Standby{cfg: cfg, addr: cfg.Key.PubKey().Address().String()}
}

// Address returns the validator's address.
func (s *Standby) Address() string { return s.addr }

// Driver returns the driver of the term this validator holds, nil when
// it does not drive.
func (s *Standby) Driver() *Driver {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.d
}

// Run looks at the lease every tick until ctx ends, then stops the
// driver and waits for its cases to stop.
func (s *Standby) Run(ctx context.Context) {
	for {
		s.step(ctx)
		// The lease's length is the genesis's only once the node has
		// initialised the chain: read it each time.
		tick := s.cfg.Tick
		if tick <= 0 {
			tick = s.cfg.App.LeaseLength() / 4
		}
		select {
		case <-ctx.Done():
			s.drive(ctx, 0)
			return
		case <-time.After(tick):
		}
	}
}

// step acts on the committed lease once.
func (s *Standby) step(ctx context.Context) {
	if s.cfg.Syncing != nil && s.cfg.Syncing() {
		s.drive(ctx, 0)
		return
	}
	l := s.cfg.App.Lease()
	n := s.cfg.App.LeaseLength()
	now := time.Now()
	if l.Driver == s.addr {
		s.drive(ctx, l.Term)
		s.pruneTenants()
		// Renew well before the lease lapses (at every tick of a
		// quarter of it, so that a slow block or two do not cost the
		// lease); the local clock only says when to send, the block's
		// time says what holds.
		if now.Sub(s.renewed) >= n/5 {
			s.renewed = now
			s.send(ctx, l.Term)
		}
		return
	}
	s.drive(ctx, 0)
	if l != s.seen {
		s.seen, s.seenAt = l, now
	}
	// Nobody holds the lease, or the holder's has lapsed both by the
	// block time it was granted in and by this standby's clock since it
	// last saw the lease renewed (the first block's time is the
	// genesis's, which may be long past): claim the next term. Every
	// standby may; the block takes the first claim and refuses the
	// others.
	lapsed := now.UnixNano() >= l.Expiry && now.Sub(s.seenAt) >= n
	if (l.Driver == "" || lapsed) && now.Sub(s.claimed) >= n/2 {
		s.claimed = now
		s.send(ctx, l.Term+1)
	}
}

// send broadcasts a lease transaction of term without waiting for its
// block: the next steps see the committed outcome.
func (s *Standby) send(ctx context.Context, term uint64) {
	t := &Tx{Kind: KindLease, Term: term, API: s.cfg.API}
	if err := t.Sign(s.cfg.Key, s.cfg.App.ChainID()); err != nil {
		return
	}
	tx, err := t.Encode()
	if err != nil {
		return
	}
	s.cfg.Node.BroadcastTxSync(ctx, tx)
}

// drive makes the driver the one of term: it stops the driver of
// another term, and for a term other than 0 starts one that recovers
// the chain's running cases.
func (s *Standby) drive(ctx context.Context, term uint64) {
	s.mu.Lock()
	d, stop := s.d, s.stop
	if d != nil && d.term == term {
		s.mu.Unlock()
		return
	}
	tds := s.tds
	s.d, s.stop, s.dctx, s.tds = nil, nil, nil, nil
	s.mu.Unlock()
	if d != nil {
		stop()
		d.Wait()
		for _, td := range tds {
			td.d.Wait()
		}
		if s.cfg.OnTerm != nil {
			s.cfg.OnTerm(d.term, nil)
		}
	}
	if term == 0 || ctx.Err() != nil {
		return
	}
	dctx, cancel := context.WithCancel(ctx)
	nd, err := NewDriver(dctx, s.cfg.Program, s.cfg.Eval, s.cfg.Worker, &Log{App: s.cfg.App, Node: s.cfg.Node, Key: s.cfg.Key, Term: term})
	if err != nil {
		cancel()
		return
	}
	nd.workerOf = s.cfg.ProgramWorker
	s.mu.Lock()
	s.d, s.stop, s.dctx, s.tds = nd, cancel, dctx, map[string]*tenantDriver{}
	s.mu.Unlock()
	nd.Recover()
	s.recoverTenants()
	if s.cfg.OnTerm != nil {
		s.cfg.OnTerm(term, nd)
	}
}

// TenantDriver returns the driver of tenant id's space at the term this
// validator holds, nil when it does not drive. The first call of a term
// makes it and recovers the space's running cases; it stops with the
// term.
func (s *Standby) TenantDriver(id string) *Driver {
	if id == "" {
		return s.Driver()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.d == nil {
		return nil
	}
	if td := s.tds[id]; td != nil {
		return td.d
	}
	if s.cfg.Live != nil && !s.cfg.Live(id) {
		return nil
	}
	w := s.cfg.Worker
	if s.cfg.WorkerFor != nil {
		w = s.cfg.WorkerFor(id)
	}
	tctx, cancel := context.WithCancel(s.dctx)
	td, err := NewDriver(tctx, s.cfg.Program, s.cfg.Eval, w, &Log{App: s.cfg.App, Node: s.cfg.Node, Key: s.cfg.Key, Term: s.d.term, Tenant: id})
	if err != nil {
		cancel()
		return nil
	}
	s.tds[id] = &tenantDriver{td, cancel}
	td.Recover()
	return td
}

// tenantDriver is a tenant's space's driver and what stops it alone.
type tenantDriver struct {
	d    *Driver
	stop context.CancelFunc
}

// pruneTenants stops the drivers of the spaces that are no longer
// served (Live), and waits for their cases to stop.
func (s *Standby) pruneTenants() {
	if s.cfg.Live == nil {
		return
	}
	var gone []*tenantDriver
	s.mu.Lock()
	for id, td := range s.tds {
		if !s.cfg.Live(id) {
			td.stop()
			gone = append(gone, td)
			delete(s.tds, id)
		}
	}
	s.mu.Unlock()
	for _, td := range gone {
		td.d.Wait()
	}
}

// recoverTenants makes the drivers of every tenant's space that has a
// running case, so that their timers and tasks go on after a failover
// without waiting for a call; the standby does it for each new term.
func (s *Standby) recoverTenants() {
	for _, id := range s.cfg.App.Spaces() {
		if (s.cfg.Live == nil || s.cfg.Live(id)) && len(s.cfg.App.Space(id).Cases(true)) > 0 {
			s.TenantDriver(id)
		}
	}
}
