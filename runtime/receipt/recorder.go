// This file implements the Recorder: it appends receipts to the log and
// signs checkpoints every N receipts or T milliseconds.

package receipt

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/transparency-dev/merkle/compact"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/sign"
)

// Options configure a [Recorder].
type Options struct {
	// Key signs the checkpoints; required.
	Key *sign.PrivateKey
	// Every is how many receipts a checkpoint covers at most beyond the
	// previous one (default DefaultEvery).
	Every int
	// Interval is the longest a receipt waits for a checkpoint (default
	// DefaultInterval); negative: only every Every receipts and at Close.
	// Checkpoints are signed and written by a goroutine of their own, so
	// their fsyncs and signature never hold up a transition; Checkpoint
	// and Close wait for them.
	Interval time.Duration
	// Now is the clock of checkpoint times (default time.Now).
	Now func() time.Time
}

// The defaults of Options.
const (
	DefaultEvery    = 1024
	DefaultInterval = time.Second
)

// Paths under a data directory.
const (
	Dir             = "receipts"
	LogFile         = "log"
	CheckpointsFile = "checkpoints"
	KeysDir         = "keys"
)

// Recorder appends the receipts of a data directory. Its methods are safe
// for concurrent use; one process at a time may hold a directory's
// Recorder (the data directory's lock sees to that).
type Recorder struct {
	dir  string
	opts Options

	mu         sync.Mutex
	logf, cpf  *os.File
	w          *bufio.Writer
	next       uint64                // the sequence number of the next receipt
	prev       Digest                // the hash of the last receipt
	cases      map[string]*caseChain // where each case's receipts stand
	rng        *compact.Range
	cutSize    uint64 // receipts covered by the latest checkpoint decided
	signedSize uint64 // receipts covered by the latest checkpoint written
	pending    []cut  // checkpoints decided, for the writer
	lastCP     time.Time
	err        error      // the first write error: the log is unusable after it
	line       []byte     // the line being written, reused
	cond       *sync.Cond // on mu: a checkpoint was written, or err set

	wake chan struct{} // a cut is pending
	stop chan struct{}
	done chan struct{}

	// The queue of events the sequencer turns into receipts.
	qmu    sync.Mutex
	q      []queued
	qspare []queued
	qn     uint64     // events queued since the log began (its size once sequenced)
	qcond  *sync.Cond // on qmu: the queue was taken, or qerr set
	qerr   error      // the log's error, for Record
	qwake  chan struct{}
	qdone  chan struct{}

	lock *os.File // the log's lock (lock_flock.go), released by Close
}

// Open opens (creating it if needed) the receipt log of data directory
// data. An existing log is read and checked first: a line cut by a crash
// at its end is dropped, any other damage refuses the open with the
// sequence number at fault, as knhk receipts verify would report it.
func Open(data string, o Options) (*Recorder, error) {
	if o.Key == nil {
		return nil, errors.New("receipts need a signing key")
	}
	if o.Every <= 0 {
		o.Every = DefaultEvery
	}
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	dir := filepath.Join(data, Dir)
	if err := os.MkdirAll(filepath.Join(dir, KeysDir), 0o755); err != nil {
		return nil, err
	}
	lock, err := lockLog(dir)
	if err != nil {
		return nil, err
	}
	r, err := open(dir, o)
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		return nil, err
	}
	r.lock = lock
	return r, nil
}

// open opens the log in dir, whose lock the caller holds.
func open(dir string, o Options) (*Recorder, error) {
	if err := savePublicKey(dir, o.Key.Public()); err != nil {
		return nil, err
	}
	r := &Recorder{dir: dir, opts: o, cases: map[string]*caseChain{}, rng: rangeFac.NewEmptyRange(0), lastCP: o.Now()}
	st, err := loadLog(filepath.Join(dir, LogFile), true)
	if err != nil {
		return nil, err
	}
	r.next, r.prev, r.cases = st.n, st.prev, st.cases
	for _, h := range st.leaves {
		if err := r.rng.Append(h, nil); err != nil {
			return nil, err
		}
	}
	cps, err := loadCheckpoints(filepath.Join(dir, CheckpointsFile), true)
	if err != nil {
		return nil, err
	}
	if n := len(cps); n > 0 {
		r.signedSize = cps[n-1].Size
		r.cutSize = r.signedSize
		if r.signedSize > r.next {
			return nil, fmt.Errorf("receipt log %s is damaged: it holds %d receipts but checkpoint %d signs %d (knhk receipts verify reports it)", filepath.Join(dir, LogFile), r.next, n, r.signedSize)
		}
	}
	if r.logf, err = os.OpenFile(filepath.Join(dir, LogFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err != nil {
		return nil, err
	}
	if r.cpf, err = os.OpenFile(filepath.Join(dir, CheckpointsFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err != nil {
		r.logf.Close()
		return nil, err
	}
	r.w = bufio.NewWriterSize(r.logf, 64<<10)
	r.cond = sync.NewCond(&r.mu)
	r.qcond = sync.NewCond(&r.qmu)
	r.qn = r.next
	r.wake, r.stop, r.done = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	r.qwake, r.qdone = make(chan struct{}, 1), make(chan struct{})
	go r.writer()
	go r.sequencer()
	return r, nil
}

// savePublicKey keeps the signer's public key beside the log, so that a
// verifier without a trust directory can still check the signatures
// (though not who made them).
func savePublicKey(dir string, k *sign.PublicKey) error {
	path := filepath.Join(dir, KeysDir, k.ID()+".pub")
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	return os.WriteFile(path, k.MarshalPEM(), 0o644)
}

// cut is a checkpoint decided but not yet written: the tree's size and
// root when it was cut.
type cut struct {
	size uint64
	root Digest
	time time.Time
}

// cutLocked decides a checkpoint of every receipt so far: it hands the
// buffered receipts to the file (a write, not an fsync) and queues the
// size and root for the writer. Cuts are queued in order under r.mu, so
// the checkpoint file only grows.
func (r *Recorder) cutLocked() {
	if err := r.w.Flush(); err != nil {
		r.fail(err)
		return
	}
	root, err := rootOf(r.rng)
	if err != nil {
		r.fail(err)
		return
	}
	now := r.opts.Now()
	r.pending = append(r.pending, cut{size: r.next, root: root, time: now})
	r.cutSize, r.lastCP = r.next, now
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// fail records the first error of the log; every call after it fails.
func (r *Recorder) fail(err error) {
	if r.err == nil {
		r.err = fmt.Errorf("receipt log: %w", err)
	}
	r.cond.Broadcast()
}

// writer writes the queued checkpoints, and cuts one when receipts have
// waited Interval. It runs in its own goroutine, so that the fsyncs and
// the signature of a checkpoint never hold up a transition.
func (r *Recorder) writer() {
	defer close(r.done)
	var tick <-chan time.Time
	if r.opts.Interval > 0 {
		t := time.NewTicker(r.opts.Interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-r.stop:
			return
		case <-r.wake:
		case <-tick:
			r.mu.Lock()
			if r.err == nil && r.next > r.cutSize && r.opts.Now().Sub(r.lastCP) >= r.opts.Interval {
				r.cutLocked()
			}
			r.mu.Unlock()
		}
		r.mu.Lock()
		todo := r.pending
		r.pending = nil
		r.mu.Unlock()
		for _, c := range todo {
			err := r.writeCheckpoint(c)
			r.mu.Lock()
			if err != nil {
				r.fail(err)
			} else {
				r.signedSize = c.size
				r.cond.Broadcast()
			}
			r.mu.Unlock()
			if err != nil {
				break
			}
		}
	}
}

// writeCheckpoint makes the receipts durable, then signs and appends the
// checkpoint c of them and makes it durable: a signed checkpoint never
// covers receipts a crash could lose.
func (r *Recorder) writeCheckpoint(c cut) error {
	if err := r.logf.Sync(); err != nil {
		return err
	}
	cp := &Checkpoint{Size: c.size, Root: c.root, Time: c.time.UnixMilli()}
	if err := signCheckpoint(cp, r.opts.Key); err != nil {
		return err
	}
	line, err := encodeCheckpoint(cp)
	if err != nil {
		return err
	}
	if _, err := r.cpf.Write(line); err != nil {
		return err
	}
	return r.cpf.Sync()
}

// queued is an event waiting for the sequencer to become a receipt.
type queued struct {
	caseID, desc, kind string
	frame, trans       int32
	ev                 Digest
}

// maxQueued bounds the events waiting for the sequencer; Record waits
// beyond it. The sequencer wakes when wakeQueued events wait, or every
// sequenceEvery: waking it for each event cost more than the receipt.
const (
	maxQueued     = 1 << 16
	wakeQueued    = 256
	sequenceEvery = 2 * time.Millisecond
)

// Record queues the receipt of ev, just committed for caseID, whose
// program has descriptor hash descriptor. The receipt is made by the
// sequencer goroutine: appends from many cases then do not contend for
// the log's chain, and only the event's digest is computed here. An
// error of the log (a failed write) is returned by the Record calls
// after it and by Checkpoint and Close.
func (r *Recorder) Record(caseID, descriptor string, ev *engine.Event) error {
	evd, err := EventDigest(ev)
	if err != nil {
		return err
	}
	r.qmu.Lock()
	for len(r.q) >= maxQueued && r.qerr == nil {
		r.qcond.Wait()
	}
	if r.qerr != nil {
		err := r.qerr
		r.qmu.Unlock()
		return err
	}
	r.q = append(r.q, queued{caseID: caseID, desc: descriptor, kind: ev.Kind.String(), frame: ev.Frame, trans: ev.Trans, ev: evd})
	r.qn++
	wake := len(r.q) == wakeQueued
	r.qmu.Unlock()
	if wake {
		select {
		case r.qwake <- struct{}{}:
		default:
		}
	}
	return nil
}

// sequencer turns queued events into receipts, in the order Record
// queued them.
func (r *Recorder) sequencer() {
	defer close(r.qdone)
	t := time.NewTicker(sequenceEvery)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-r.qwake:
		case <-t.C:
		}
		r.qmu.Lock()
		batch := r.q
		r.q = r.qspare[:0]
		r.qcond.Broadcast()
		r.qmu.Unlock()
		r.mu.Lock()
		for i := range batch {
			if r.err != nil {
				break
			}
			r.appendLocked(&batch[i])
		}
		err := r.err
		r.cond.Broadcast()
		r.mu.Unlock()
		r.qmu.Lock()
		if err != nil && r.qerr == nil {
			r.qerr = err
			r.qcond.Broadcast()
		}
		clear(batch)
		r.qspare = batch[:0]
		r.qmu.Unlock()
	}
}

// appendLocked makes and writes the receipt of q.
func (r *Recorder) appendLocked(q *queued) {
	cc := r.cases[q.caseID]
	if cc == nil {
		cc = &caseChain{}
		r.cases[q.caseID] = cc
	}
	in := cc.out
	rc := Receipt{Seq: r.next, Case: q.caseID, Kind: q.kind, Frame: q.frame, Trans: q.trans,
		Descriptor: q.desc, Input: in, Event: q.ev, Output: OutputOf(in, q.ev), Prev: r.prev}
	rc.Hash = rc.ComputeHash()
	r.line = appendLine(r.line[:0], &rc)
	if _, err := r.w.Write(r.line); err != nil {
		r.fail(err)
		return
	}
	if err := r.rng.Append(leafHash(rc.Hash), nil); err != nil {
		r.fail(err)
		return
	}
	cc.out, cc.n = rc.Output, cc.n+1
	r.prev = rc.Hash
	r.next++
	if r.next-r.cutSize >= uint64(r.opts.Every) {
		r.cutLocked()
	}
}

// Checkpoint signs a checkpoint of every receipt recorded so far, unless
// one covers them already, and returns once it is durable.
func (r *Recorder) Checkpoint() error {
	if err := r.drain(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	if r.next > r.cutSize {
		r.cutLocked()
	}
	for r.signedSize < r.cutSize && r.err == nil {
		r.cond.Wait()
	}
	return r.err
}

// Size returns how many receipts the log holds, those still queued
// included.
func (r *Recorder) Size() uint64 {
	r.qmu.Lock()
	defer r.qmu.Unlock()
	return r.qn
}

// Close signs a last checkpoint over the receipts still waiting for one
// and closes the files.
func (r *Recorder) Close() error {
	err := r.Checkpoint()
	if r.stop != nil {
		close(r.stop)
		<-r.done
		<-r.qdone
		r.stop = nil
	}
	r.qmu.Lock()
	if r.qerr == nil {
		r.qerr = errors.New("receipt log closed")
	}
	r.qmu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.logf.Close(); err == nil {
		err = e
	}
	if e := r.cpf.Close(); err == nil {
		err = e
	}
	if r.lock != nil {
		r.lock.Close()
		r.lock = nil
	}
	if r.err == nil {
		r.err = errors.New("receipt log closed")
	}
	return err
}

// Wrap returns log with a receipt recorded after each successful Append,
// for cases of the program whose descriptor hash is descriptor. The
// result keeps log's optional interfaces (engine.Snapshotter,
// engine.Flusher), so that the engine snapshots and batches as before.
func (r *Recorder) Wrap(log engine.EventLog, descriptor string) engine.EventLog {
	base := &recLog{EventLog: log, r: r, desc: descriptor}
	sn, isSnap := log.(engine.Snapshotter)
	fl, isFlush := log.(engine.Flusher)
	switch {
	case isSnap && isFlush:
		return &snapFlushLog{base, sn, fl}
	case isSnap:
		return &snapLog{base, sn}
	case isFlush:
		return &flushLog{base, fl}
	}
	return base
}

type recLog struct {
	engine.EventLog
	r    *Recorder
	desc string
}

func (l *recLog) Append(ctx context.Context, caseID string, ev *engine.Event) error {
	if err := l.EventLog.Append(ctx, caseID, ev); err != nil {
		return err
	}
	return l.r.Record(caseID, l.desc, ev)
}

type snapLog struct {
	*recLog
	sn engine.Snapshotter
}

func (l *snapLog) SaveSnapshot(ctx context.Context, caseID string, snap []byte) error {
	return l.sn.SaveSnapshot(ctx, caseID, snap)
}

func (l *snapLog) ReplaySnapshot(ctx context.Context, caseID string, restore func([]byte) error, fn func(*engine.Event) error) error {
	return l.sn.ReplaySnapshot(ctx, caseID, restore, fn)
}

type flushLog struct {
	*recLog
	fl engine.Flusher
}

func (l *flushLog) Flush(caseID string) { l.fl.Flush(caseID) }

type snapFlushLog struct {
	*recLog
	sn engine.Snapshotter
	fl engine.Flusher
}

func (l *snapFlushLog) SaveSnapshot(ctx context.Context, caseID string, snap []byte) error {
	return l.sn.SaveSnapshot(ctx, caseID, snap)
}

func (l *snapFlushLog) ReplaySnapshot(ctx context.Context, caseID string, restore func([]byte) error, fn func(*engine.Event) error) error {
	return l.sn.ReplaySnapshot(ctx, caseID, restore, fn)
}

func (l *snapFlushLog) Flush(caseID string) { l.fl.Flush(caseID) }
