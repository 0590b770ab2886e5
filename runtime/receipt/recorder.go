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
	next       uint64            // the sequence number of the next receipt
	prev       Digest            // the hash of the last receipt
	states     map[string]Digest // each case's latest Output
	rng        *compact.Range
	signedSize uint64 // receipts covered by the latest checkpoint
	lastCP     time.Time
	err        error  // the first write error: the log is unusable after it
	line       []byte // the line being written, reused

	stop chan struct{}
	done chan struct{}
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
	if err := savePublicKey(dir, o.Key.Public()); err != nil {
		return nil, err
	}
	r := &Recorder{dir: dir, opts: o, states: map[string]Digest{}, rng: rangeFac.NewEmptyRange(0), lastCP: o.Now()}
	st, err := loadLog(filepath.Join(dir, LogFile), true)
	if err != nil {
		return nil, err
	}
	r.next, r.prev, r.states = st.n, st.prev, st.states
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
	if o.Interval > 0 {
		r.stop, r.done = make(chan struct{}), make(chan struct{})
		go r.tick()
	}
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

// tick makes a checkpoint when receipts have waited Interval for one.
func (r *Recorder) tick() {
	defer close(r.done)
	t := time.NewTicker(r.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			r.mu.Lock()
			if r.next > r.signedSize && r.opts.Now().Sub(r.lastCP) >= r.opts.Interval {
				r.checkpointLocked()
			}
			r.mu.Unlock()
		}
	}
}

// Record appends the receipt of ev, just committed for caseID, whose
// program has descriptor hash descriptor.
func (r *Recorder) Record(caseID, descriptor string, ev *engine.Event) error {
	evd, err := EventDigest(ev)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	in := r.states[caseID]
	rc := Receipt{Seq: r.next, Case: caseID, Kind: ev.Kind.String(), Frame: ev.Frame, Trans: ev.Trans,
		Descriptor: descriptor, Input: in, Event: evd, Output: OutputOf(in, evd), Prev: r.prev}
	rc.Hash = rc.ComputeHash()
	r.line = appendLine(r.line[:0], &rc)
	if _, err := r.w.Write(r.line); err != nil {
		r.err = fmt.Errorf("receipt log: %w", err)
		return r.err
	}
	if err := r.rng.Append(leafHash(rc.Hash), nil); err != nil {
		r.err = err
		return err
	}
	r.states[caseID] = rc.Output
	r.prev = rc.Hash
	r.next++
	if r.next-r.signedSize >= uint64(r.opts.Every) {
		return r.checkpointLocked()
	}
	return nil
}

// Checkpoint signs a checkpoint now if receipts are waiting for one.
func (r *Recorder) Checkpoint() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	if r.next == r.signedSize {
		return nil
	}
	return r.checkpointLocked()
}

// checkpointLocked makes the receipts durable, then signs and appends a
// checkpoint of them and makes it durable: a signed checkpoint never
// covers receipts a crash could lose.
func (r *Recorder) checkpointLocked() error {
	fail := func(err error) error {
		r.err = fmt.Errorf("receipt log: %w", err)
		return r.err
	}
	if err := r.w.Flush(); err != nil {
		return fail(err)
	}
	if err := r.logf.Sync(); err != nil {
		return fail(err)
	}
	root, err := rootOf(r.rng)
	if err != nil {
		return fail(err)
	}
	now := r.opts.Now()
	cp := &Checkpoint{Size: r.next, Root: root, Time: now.UnixMilli()}
	if err := signCheckpoint(cp, r.opts.Key); err != nil {
		return fail(err)
	}
	line, err := encodeCheckpoint(cp)
	if err != nil {
		return fail(err)
	}
	if _, err := r.cpf.Write(line); err != nil {
		return fail(err)
	}
	if err := r.cpf.Sync(); err != nil {
		return fail(err)
	}
	r.signedSize, r.lastCP = r.next, now
	return nil
}

// Size returns how many receipts the log holds.
func (r *Recorder) Size() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.next
}

// Close signs a last checkpoint over the receipts still waiting for one
// and closes the files.
func (r *Recorder) Close() error {
	if r.stop != nil {
		close(r.stop)
		<-r.done
		r.stop = nil
	}
	err := r.Checkpoint()
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.logf.Close(); err == nil {
		err = e
	}
	if e := r.cpf.Close(); err == nil {
		err = e
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
