// This file implements the Service: opening a data directory, admitting
// calls, and draining on Close.

package server

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/learn"
	"github.com/knhk/knhk/runtime/queue"
	"github.com/knhk/knhk/runtime/store"
	"github.com/knhk/knhk/runtime/worker"
)

// Options configures a Service.
type Options struct {
	// BaseDir resolves the relative paths of exec tasks (default ".").
	BaseDir string
	// Log receives task output and the Service's own messages (default
	// io.Discard).
	Log io.Writer
	// IndexEvery is how often the recovery index is written while
	// serving (default 30 s; negative: only on Close).
	IndexEvery time.Duration
	// Store configures the event log.
	Store store.Options
	// Lease is how long an external worker holds a queue task without a
	// heartbeat (default queue.DefaultLease).
	Lease time.Duration
	// Observer, if set, sees committed events, group commits and task
	// attempts (server/metrics implements it; see observe.go).
	Observer Observer
	// SyncEachEvent makes every event of a case durable on its own
	// before the engine goes on (one fsync wait per event, shared only
	// by concurrent cases), as before batching per case: the baseline
	// of the throughput benchmarks.
	SyncEachEvent bool
	// DispatchAfterDurable makes every task wait until the events that
	// scheduled it are durable before a worker can take it, as before
	// early dispatch (dispatch.go), and lets the store's committer wait
	// for stragglers as it did then (store.Options.NoCommitDelay, which
	// the Service sets otherwise): the baseline of the latency
	// benchmark.
	DispatchAfterDurable bool
	// NoPark keeps every waiting case in the engine instead of parking
	// the ones that wait only for signals and timers (park.go): the
	// baseline of the idle-case benchmark.
	NoPark bool
	// AdmitStart, if set, is asked about every new case before its start
	// is recorded, and its error refuses the start with
	// CodeFailedPrecondition: knhk serve --license refuses starts beyond
	// the licence's limits. The Service calls release once the case has
	// started or failed to start. Running cases are never asked.
	AdmitStart func(workflow string) (release func(), err error)
	// AdmitDeploy, if set, is asked about every deploy's descriptor hash
	// after Admit, and its error refuses the deploy: knhk serve --license
	// refuses programs beyond the licence's limit.
	AdmitDeploy func(descriptor string) error
	// LogFor, if set, wraps the event log each program's engine appends
	// to, given the program's descriptor hash: knhk serve --sign-key
	// keeps its receipt log this way (runtime/receipt), above the engine.
	LogFor func(log engine.EventLog, descriptor string) engine.EventLog
	// Admit, if set, is asked about every deploy's descriptor hash
	// before it is stored, and its error refuses the deploy: knhk serve
	// --trust admits only signed descriptors, --sign-key signs them.
	Admit func(descriptor string) error
	// AdmitSigned, if set, is Admit given also the signature file the
	// deploy carried (nil when none; see DeploySigned), and is asked
	// instead of Admit.
	AdmitSigned func(descriptor string, sigs []byte) error
	// Mining answers the std/mining tasks of the cases served (knhk
	// serve mines its own data directory); nil fails them saying why.
	Mining worker.Miner
	// Kernels, if set, runs the programs' kernel calls instead of the
	// process's device runner (accel.Shared): knhk serve meters each
	// tenant's accelerator time through it (runtime/meter's
	// Accelerator).
	Kernels eval.KernelRunner
	// Erasure, if set, is the crypto-shredding of the Service's data
	// (erase.go): an erased case's history, inspection and export are
	// refused, and EraseCase and EraseAll destroy keys through it.
	Erasure Erasure
}

// Service runs every case of one data directory. Its methods are safe
// for concurrent use.
type Service struct {
	dir  string
	opts Options
	st   *store.Store
	log  *eventLog
	lock *os.File // DIR/server/LOCK, held while open
	// broker hands the attempts of queue tasks to external workers.
	broker *queue.Broker
	// metas is the durable record of case starts (metalog.go); the CLI
	// reads it and the index through ReadStarts (starts.go).
	metas *metaLog
	// running counts the cases running now, kept as they start and end
	// (starts.go): Running is O(1) where CaseCounts passes every case.
	running runningCount

	runCtx  context.Context // the context cases run under
	stopRun context.CancelFunc
	drivers sync.WaitGroup // one per case being driven
	calls   sync.WaitGroup // calls in flight
	stop    chan struct{}  // closed when Close starts draining
	// stopCtx ends when stop is closed, for calls that end with a drain
	// without a goroutine of their own each (context.AfterFunc).
	stopCtx context.Context
	stopped context.CancelFunc

	mu       sync.Mutex
	closing  bool
	progs    map[string]*Program // by hash
	deployed []*Program          // deploy order
	policies []*learn.Policy     // of the learned routes (learn.go)
	cases    map[string]*caseEntry
	list     []*caseEntry // start order
	byReq    map[string]*caseEntry
	byKey    map[string]*caseEntry

	// timers wakes parked cases (park.go).
	timers *timerQueue

	indexMu   sync.Mutex // one index write at a time
	indexDone chan struct{}
	// OpenStats says what Open read.
	openStats OpenStats
}

// OpenStats says how Open rebuilt the Service.
type OpenStats struct {
	FromIndex bool      // an index was read
	Scanned   int       // log records read to find the cases (the tail after the index)
	Replayed  int       // log records read to rebuild the running cases
	Recovered int       // cases rebuilt and run on
	Parked    int       // waiting cases read from the index as data, not rebuilt (park.go)
	Cases     int       // cases known
	UpTo      store.Seq // the sequence number the index was true for
}

// Open opens (creating it if needed) the data directory dir and runs on
// every case that has not ended. Only one Service may have a directory
// open; a second Open fails at once.
func Open(dir string, opts Options) (*Service, error) {
	if opts.BaseDir == "" {
		opts.BaseDir = "."
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.IndexEvery == 0 {
		opts.IndexEvery = 30 * time.Second
	}
	if err := os.MkdirAll(filepath.Join(dir, "server"), 0o755); err != nil {
		return nil, err
	}
	lock, err := lockDir(filepath.Join(dir, "server", "LOCK"))
	if err != nil {
		return nil, err
	}
	if !opts.DispatchAfterDurable && !opts.SyncEachEvent {
		// Cases do not wait for their commits: none straggles.
		opts.Store.NoCommitDelay = true
	}
	if opts.Observer != nil && opts.Store.OnCommit == nil {
		opts.Store.OnCommit = opts.Observer.Commit
	}
	st, err := store.Open(dir, opts.Store)
	if err != nil {
		lock.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{dir: dir, opts: opts, st: st, lock: lock, broker: queue.New(queue.Options{Lease: opts.Lease}), runCtx: ctx, stopRun: cancel, stop: make(chan struct{}),
		progs: map[string]*Program{}, cases: map[string]*caseEntry{}, byReq: map[string]*caseEntry{}, byKey: map[string]*caseEntry{},
		indexDone: make(chan struct{})}
	s.stopCtx, s.stopped = context.WithCancel(context.Background())
	s.timers = &timerQueue{s: s, reset: make(chan struct{}, 1)}
	s.log = &eventLog{st: st, started: s.appended, syncEach: opts.SyncEachEvent}
	s.log.init()
	if s.metas, err = openMetaLog(filepath.Join(dir, "server")); err != nil {
		s.abort()
		return nil, err
	}
	if opts.Observer != nil {
		s.log.observe = opts.Observer.Event
	}
	if err := s.loadPrograms(); err != nil {
		s.abort()
		return nil, err
	}
	if err := s.recover(ctx); err != nil {
		s.abort()
		return nil, err
	}
	go s.timers.run(s.stop)
	if opts.IndexEvery > 0 {
		go s.indexLoop(opts.IndexEvery)
	} else {
		close(s.indexDone)
	}
	return s, nil
}

func (s *Service) abort() {
	s.stopRun()
	if s.metas != nil {
		s.metas.close()
	}
	s.st.Close()
	s.lock.Close()
}

// Dir returns the data directory.
func (s *Service) Dir() string { return s.dir }

// Stats returns what Open read.
func (s *Service) Stats() OpenStats { return s.openStats }

// enter admits a call; every successful enter is paired with leave.
func (s *Service) enter() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return &Error{Code: CodeUnavailable, Message: ErrClosed.Error(), Err: ErrClosed}
	}
	s.calls.Add(1)
	return nil
}

func (s *Service) leave() { s.calls.Done() }

// Close drains the Service: new calls fail with CodeUnavailable, calls
// in flight finish (long polls return at once), cases stop at their next
// durable step (a task call in flight is abandoned and invoked again,
// with the same idempotency key, by the next Open), the index is
// written and the store closed. It returns within ctx's deadline or
// with its error.
func (s *Service) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	s.closing = true
	s.mu.Unlock()
	close(s.stop)
	s.stopped()
	wait := func(wg *sync.WaitGroup) error {
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	err := wait(&s.calls)
	s.stopRun()
	if werr := wait(&s.drivers); err == nil {
		err = werr
	}
	s.broker.Close()
	s.closePolicies()
	s.log.flushAll() // what the stopped runs appended
	if err == nil {
		s.snapshotLive(ctx)
	}
	<-s.indexDone
	if err == nil {
		err = s.writeIndex()
	}
	if merr := s.metas.close(); err == nil {
		err = merr
	}
	if cerr := s.st.Close(); err == nil {
		err = cerr
	}
	s.lock.Close()
	if err != nil {
		return fmt.Errorf("closing the server: %w", err)
	}
	return nil
}

// snapshotLive writes a snapshot of every case still running whose
// latest snapshot is older than its last event, once the drivers have
// stopped, so that the next Open rebuilds each from a record near the
// end of the log instead of scanning from where the oldest of them
// started. A failure only costs the next Open a longer scan.
func (s *Service) snapshotLive(ctx context.Context) {
	s.mu.Lock()
	list := append([]*caseEntry(nil), s.list...)
	s.mu.Unlock()
	// The snapshots share fsyncs: each is handed over at once and the
	// drain waits for all of them at the end.
	var wg sync.WaitGroup
	for _, e := range list {
		e.mu.Lock()
		sum, parked := e.sum, e.parked != nil
		e.mu.Unlock()
		if sum.Done() || parked {
			continue // a parked case's snapshot is its last record
		}
		pos := s.log.position(e.id)
		if pos.Last == 0 || pos.Snap >= pos.Last {
			continue
		}
		p, err := s.program(sum.Program)
		if err != nil {
			continue
		}
		st, err := p.eng.Snapshot(e.id)
		if err != nil {
			continue // parked, or never held
		}
		b, err := p.eng.Machine().EncodeState(st, max(pos.N, 1))
		if err == nil {
			err = s.log.SaveSnapshot(ctx, e.id, b)
		}
		if err != nil {
			fmt.Fprintf(s.opts.Log, "knhk serve: snapshot of case %s: %v\n", e.id, err)
			continue
		}
		id := e.id
		wg.Add(1)
		s.log.afterDurable(id, func(err error) {
			if err != nil {
				fmt.Fprintf(s.opts.Log, "knhk serve: snapshot of case %s: %v\n", id, err)
			}
			wg.Done()
		})
		s.log.Flush(id)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
