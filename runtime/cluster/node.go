// This file implements a Node: one replica, its raft instance and
// stores, and the loop that starts and stops the leader's engine.

package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
)

// Config is what a Node runs with.
type Config struct {
	// ID names the node in the cluster; it must never be reused by
	// another node.
	ID string
	// Raft is the address the node's raft transport listens on and
	// that the other nodes dial; API is where its HTTP API answers
	// (followers forward calls to the leader's).
	Raft, API string
	// Advertise, when set, is the raft address the other nodes dial
	// instead of Raft: a proxy or a NAT in front of the node (plain TCP
	// only).
	Advertise string
	// Labels describe the node; "region" is used by placement.
	Labels map[string]string
	// Dir keeps the raft log (raft-wal) and snapshots; empty keeps them
	// in memory (tests).
	Dir string
	// Bootstrap makes the node a cluster of one when it has no state
	// yet; the first node of a new cluster sets it, the others join.
	Bootstrap bool

	Program *ir.Program
	Eval    engine.Evaluator
	Worker  engine.Worker
	Clock   engine.Clock
	// Compile, when set, compiles deployed sources (see Deploy and
	// Compiler); without it the node takes no deploys. WorkerFor makes
	// the worker of a deployed program (nil: Worker serves them all).
	Compile   Compiler
	WorkerFor func(*ir.Program) engine.Worker
	// Queue, when set, is the broker of the program's queue tasks that
	// Worker submits to (worker.Options.Queue): the node opens it when
	// it starts leading and closes it when it stops (see Queue).
	Queue *Queue

	// Transport carries raft's messages; nil listens with TCP on Raft,
	// or with mutual TLS when TLS is set (see NewTLSStreamLayer).
	Transport raft.Transport
	TLS       *tls.Config
	// Timing, zero for raft's defaults (tests shorten them).
	Timing Timing
	// Voters is how many voters the leader aims for (default 3); it
	// promotes caught-up non-voters one at a time within placement's
	// rule (see Place).
	Voters int
	// Prober reports a member's applied index, to promote a non-voter
	// only once it has caught up; nil asks the member's HTTP API.
	Prober Prober
	// LogOutput receives raft's log lines; nil discards them.
	LogOutput io.Writer
	// AdmitJoin, if set, is asked by the leader before a new node joins,
	// with the number of nodes the cluster would then have; its error
	// refuses the join (knhk serve --node --license: the licence's
	// cluster_size).
	AdmitJoin func(nodes int) error
	// AdmitStart, if set, is asked by the leader before it proposes a
	// new case of workflow (not a retried one); its error refuses the
	// start, and release is called once the start committed or failed
	// (a licence's concurrent cases and transitions, a tenant's cap).
	// AdmitDeploy is asked likewise before a program new to the cluster
	// is proposed. Both decide on the leader's FSM, which holds every
	// committed entry (see licensegate.go).
	AdmitStart  func(workflow string) (release func(), err error)
	AdmitDeploy func(hash string) error
	// AtRest, when set, seals the node's raft log entries and snapshots
	// before they reach the disk (atrest.go): destroying its key
	// crypto-shreds the node's copy of the group.
	AtRest Sealer
	// VerifyDeploy, if set, admits only deploys signed by a trusted key:
	// the leader asks it before proposing a deploy and every replica
	// before compiling one from the log (deploy.go's DeployVerifier).
	VerifyDeploy DeployVerifier
	// Accel, if set, is the node's metered accelerator time not yet in
	// the log: each command the node proposes carries it (meter.go).
	Accel AccelSource
}

// Timing holds the raft timeouts and the leader's loops' periods.
type Timing struct {
	Heartbeat, Election, Lease, Commit time.Duration
	// SnapshotThreshold is how many entries pass between FSM
	// snapshots (raft's default 8192).
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	// TrailingLogs is how many entries a snapshot leaves in the log
	// (default SnapshotThreshold); a follower further behind is sent
	// the snapshot.
	TrailingLogs uint64
	// Tick is how often the node checks its leadership and the leader
	// reconsiders its voters (default 200ms).
	Tick time.Duration
}

// Prober reports the applied index of a member.
type Prober interface {
	Applied(ctx context.Context, m Member) (uint64, error)
}

// Node is one replica of a cluster.
type Node struct {
	cfg   Config
	hash  string
	fsm   *FSM
	r     *raft.Raft
	trans raft.Transport

	closers []func() error

	mu      sync.Mutex
	lead    *leaderRun // non-nil while this node leads and runs the engine
	warning string     // Place's latest warning
	closed  bool
	stop    chan struct{}
	loops   sync.WaitGroup
	meter   nodeMeter // proposing accelerator time (meter.go)
	// shred destroys the keys of erased cases (atrestcase.go); nil
	// unless AtRest seals per case.
	shred *shredder
	// caughtUp is set once the node has applied catchUpTo, what its
	// leader had applied when first asked (stalegate.go).
	caughtUp  atomic.Bool
	catchUpTo atomic.Uint64
}

// ErrNotLeader is returned by calls that only the leader answers; the
// error is a *NotLeaderError naming the leader when one is known.
var ErrNotLeader = errors.New("not the leader")

// NotLeaderError says who leads.
type NotLeaderError struct {
	ID, Raft, API string // empty when no leader is known
}

func (e *NotLeaderError) Error() string {
	if e.ID == "" {
		return "not the leader, and no leader is known (an election may be under way)"
	}
	return fmt.Sprintf("not the leader; the leader is %s (raft %s, api %s)", e.ID, e.Raft, e.API)
}

func (e *NotLeaderError) Unwrap() error { return ErrNotLeader }

// ErrMaybeCommitted wraps a failure after which the command may or may
// not have committed (leadership was lost while it was in flight):
// retrying with the same request id is safe.
var ErrMaybeCommitted = errors.New("the command may or may not have committed")

// NewNode opens (or creates) the node's stores and starts raft.
func NewNode(cfg Config) (*Node, error) {
	if cfg.ID == "" {
		return nil, fmt.Errorf("a node needs an id")
	}
	if cfg.Program == nil || cfg.Worker == nil {
		return nil, fmt.Errorf("a node needs a program and a worker")
	}
	if cfg.Voters <= 0 {
		cfg.Voters = 3
	}
	if cfg.Timing.Tick <= 0 {
		cfg.Timing.Tick = 200 * time.Millisecond
	}
	if cfg.LogOutput == nil {
		cfg.LogOutput = io.Discard
	}
	hash, err := cfg.Program.Hash()
	if err != nil {
		return nil, err
	}
	m, err := engine.NewMachine(cfg.Program)
	if err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, hash: hash, fsm: NewFSM(m, hash), stop: make(chan struct{})}
	n.fsm.SetCompiler(cfg.Compile)
	n.fsm.SetDeployVerifier(cfg.VerifyDeploy)
	ok := false
	defer func() {
		if !ok {
			n.closeStores()
		}
	}()
	var (
		logs   raft.LogStore
		stable raft.StableStore
		snaps  raft.SnapshotStore
	)
	if cfg.Dir == "" {
		s := raft.NewInmemStore()
		logs, stable, snaps = s, s, raft.NewInmemSnapshotStore()
	} else {
		wdir := filepath.Join(cfg.Dir, "wal")
		if err := os.MkdirAll(wdir, 0o755); err != nil {
			return nil, err
		}
		// raft-wal's Close leaves its meta database open (and locked),
		// so the node owns it and closes it after the log.
		meta := &metadb.BoltMetaDB{}
		n.closers = append(n.closers, meta.Close)
		w, err := wal.Open(wdir, wal.WithSegmentSize(8<<20), wal.WithMetaStore(meta))
		if err != nil {
			return nil, fmt.Errorf("raft log %s: %w", wdir, err)
		}
		n.closers = append(n.closers, w.Close)
		logs, stable = w, w
		if snaps, err = raft.NewFileSnapshotStore(cfg.Dir, 2, cfg.LogOutput); err != nil {
			return nil, fmt.Errorf("raft snapshots %s: %w", cfg.Dir, err)
		}
	}
	if cfg.AtRest != nil {
		logs, snaps = sealLogs(logs, cfg.AtRest), &sealedSnaps{SnapshotStore: snaps, s: cfg.AtRest}
	}
	if err := checkSnapshots(snaps, hash); err != nil {
		return nil, err
	}
	n.shred = newShredder(n, logs, snaps)
	trans := cfg.Transport
	if trans == nil {
		if cfg.Raft == "" {
			return nil, fmt.Errorf("a node needs a raft address or a transport")
		}
		var t *raft.NetworkTransport
		var adv net.Addr
		if cfg.Advertise != "" {
			if cfg.TLS != nil {
				return nil, fmt.Errorf("an advertised raft address is not supported with TLS between nodes")
			}
			if adv, err = net.ResolveTCPAddr("tcp", cfg.Advertise); err != nil {
				return nil, fmt.Errorf("advertised raft address %q: %w", cfg.Advertise, err)
			}
		}
		if cfg.TLS != nil {
			t, err = NewTLSTransport(cfg.Raft, cfg.TLS, cfg.LogOutput)
		} else {
			t, err = raft.NewTCPTransport(cfg.Raft, adv, 3, 10*time.Second, cfg.LogOutput)
		}
		if err != nil {
			return nil, fmt.Errorf("raft transport on %s: %w", cfg.Raft, err)
		}
		trans = t
	}
	n.trans = trans
	if c, ok := trans.(io.Closer); ok {
		n.closers = append(n.closers, c.Close)
	}
	rc := raftConfig(cfg)
	existing, err := raft.HasExistingState(logs, stable, snaps)
	if err != nil {
		return nil, err
	}
	if cfg.Bootstrap && !existing {
		conf := raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: raft.ServerID(cfg.ID), Address: trans.LocalAddr()}}}
		if err := raft.BootstrapCluster(rc, logs, stable, snaps, trans, conf); err != nil {
			return nil, fmt.Errorf("bootstrapping: %w", err)
		}
	}
	if n.r, err = raft.NewRaft(rc, n.fsm, logs, stable, snaps, trans); err != nil {
		return nil, err
	}
	ok = true
	n.loops.Add(1)
	go n.watch()
	if n.shred != nil {
		n.loops.Add(1)
		go n.shred.loop()
	}
	return n, nil
}

func raftConfig(cfg Config) *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.ID)
	t := cfg.Timing
	if t.Heartbeat > 0 {
		rc.HeartbeatTimeout = t.Heartbeat
	}
	if t.Election > 0 {
		rc.ElectionTimeout = t.Election
	}
	if t.Lease > 0 {
		rc.LeaderLeaseTimeout = t.Lease
	}
	if t.Commit > 0 {
		rc.CommitTimeout = t.Commit
	}
	if t.SnapshotThreshold > 0 {
		rc.SnapshotThreshold = t.SnapshotThreshold
		rc.TrailingLogs = t.SnapshotThreshold
	}
	if t.TrailingLogs > 0 {
		rc.TrailingLogs = t.TrailingLogs
	}
	if t.SnapshotInterval > 0 {
		rc.SnapshotInterval = t.SnapshotInterval
	}
	rc.Logger = hclog.New(&hclog.LoggerOptions{Name: "raft " + cfg.ID, Output: cfg.LogOutput, Level: hclog.Warn})
	return rc
}

// ID returns the node's id.
func (n *Node) ID() string { return n.cfg.ID }

// ProgramHash returns the hash of the node's program.
func (n *Node) ProgramHash() string { return n.hash }

// FSM returns the node's replica of the cases.
func (n *Node) FSM() *FSM { return n.fsm }

// Raft returns the node's raft instance.
func (n *Node) Raft() *raft.Raft { return n.r }

// IsLeader reports whether the node leads and runs the engine.
func (n *Node) IsLeader() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.lead != nil && n.lead.ready
}

// watch starts the engine when the node becomes leader and stops it when
// it is not any more. raft's LeaderCh may drop a notification, so a tick
// looks at the state too.
func (n *Node) watch() {
	defer n.loops.Done()
	t := time.NewTicker(n.cfg.Timing.Tick)
	defer t.Stop()
	for {
		n.reconcile()
		select {
		case <-n.stop:
			n.stopLeading()
			return
		case <-n.r.LeaderCh():
		case <-t.C:
		}
	}
}

func (n *Node) reconcile() {
	leader := n.r.State() == raft.Leader
	n.mu.Lock()
	lead := n.lead
	n.mu.Unlock()
	switch {
	case leader && lead == nil:
		n.startLeading()
	case !leader && lead != nil:
		n.stopLeading()
	case leader && lead != nil:
		n.tend(lead)
		n.flushAccel()
	}
}

// propose commits c and returns what the FSM answered.
func (n *Node) propose(ctx context.Context, c *Command) (*Result, error) {
	claimNonce(ctx, c) // the request's one-time keys (nonce.go)
	if err := claimAudit(ctx, n, c); err != nil {
		return nil, err // its audit record (auditride.go)
	}
	giveBack := n.carryAccel(c) // accelerator time (meter.go)
	b, err := c.Encode()
	if err != nil {
		giveBack()
		return nil, err
	}
	timeout := 10 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
		if timeout <= 0 {
			giveBack()
			return nil, ctx.Err()
		}
	}
	f := n.r.Apply(b, timeout)
	if err := f.Error(); err != nil {
		if errors.Is(err, raft.ErrNotLeader) {
			giveBack() // surely not in the log
		}
		return nil, n.raftErr(err)
	}
	r, _ := f.Response().(*Result)
	if r == nil {
		return nil, fmt.Errorf("command at index %d had no outcome", f.Index())
	}
	if r.Audited {
		// Chained as refused when r.Err is set: the request's next
		// command (a change recomputed after a conflict) carries it
		// again.
		AuditApplied(c, r.Err != nil)
	}
	return r, r.Err
}

// raftErr turns raft's errors into the package's.
func (n *Node) raftErr(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader):
		return n.notLeader()
	case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrLeadershipTransferInProgress), errors.Is(err, raft.ErrEnqueueTimeout):
		return fmt.Errorf("%w: %w", ErrMaybeCommitted, err)
	}
	return err
}

func (n *Node) notLeader() error {
	addr, id := n.r.LeaderWithID()
	e := &NotLeaderError{ID: string(id), Raft: string(addr)}
	if m, ok := n.fsm.Members()[e.ID]; ok {
		e.API = m.API
	}
	return e
}

// Close stops the engine (if it leads), raft and the stores. It does
// not leave the cluster: a closed node comes back by opening its
// directory again.
func (n *Node) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	n.mu.Unlock()
	close(n.stop)
	n.loops.Wait()
	err := n.r.Shutdown().Error()
	if cerr := n.closeStores(); err == nil {
		err = cerr
	}
	return err
}

func (n *Node) closeStores() error {
	var err error
	for i := len(n.closers) - 1; i >= 0; i-- {
		if cerr := n.closers[i](); err == nil {
			err = cerr
		}
	}
	n.closers = nil
	return err
}

// Leader returns the id and API address of the leader as this node
// knows it, empty when no leader is known.
func (n *Node) Leader() (id, api string) {
	e := n.notLeader().(*NotLeaderError)
	return e.ID, e.API
}

// NotLeader returns the error a call that only the leader answers gets
// on this node: a *NotLeaderError naming the leader when one is known.
func (n *Node) NotLeader() error { return n.notLeader() }

// Queue returns the node's queue of Config.Queue, nil without one.
func (n *Node) Queue() *Queue { return n.cfg.Queue }

// RaftAddr returns the address the node's raft transport listens on.
func (n *Node) RaftAddr() string { return n.raftAddr() }
