// This file implements the Recorder: it appends receipts to the log and
// signs checkpoints every N receipts or T milliseconds.

package receipt

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/transparency-dev/merkle/compact"

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
// Recorder (its lock, lock_flock.go, sees to that).
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

	format logFormat // the log file's format
	off    int64     // bytes of the log written (buffered included)
	// The event log position Backfill reached, for the tail state.
	evFrom   uint64
	evCounts map[string]int
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
	logPath, cpPath := filepath.Join(dir, LogFile), filepath.Join(dir, CheckpointsFile)
	format, err := sniffFormat(logPath)
	if err != nil {
		return nil, err
	}
	// A tail state lets the log be read from where the last recorder
	// closed it; without one (or one that does not match) it is read in
	// full.
	var (
		start *chain
		from  int64
		cps   []*Checkpoint
		tail  *tailState
	)
	if format == formatBinary {
		tail = loadTail(dir)
	}
	if tail != nil {
		c, rng, err := tail.restore()
		if err == nil {
			cps, err = loadCheckpointsFrom(cpPath, true, tail.CPOff, 0)
		}
		if err != nil {
			tail = nil
		} else {
			start, from, r.rng = c, tail.Off, rng
			r.signedSize, r.evFrom, r.evCounts = tail.Signed, tail.EvFrom, tail.EvCounts
		}
	}
	if tail == nil {
		if cps, err = loadCheckpoints(cpPath, true); err != nil {
			return nil, err
		}
	}
	st, end, err := loadLog(logPath, true, start, from)
	if err != nil {
		return nil, err
	}
	r.next, r.prev, r.cases, r.off = st.n, st.prev, st.cases, end
	for _, h := range st.leaves {
		if err := r.rng.Append(h, nil); err != nil {
			return nil, err
		}
	}
	if n := len(cps); n > 0 {
		r.signedSize = cps[n-1].Size
	}
	r.cutSize = r.signedSize
	if r.signedSize > r.next {
		return nil, fmt.Errorf("receipt log %s is damaged: it holds %d receipts but a checkpoint signs %d (knhk receipts verify reports it)", logPath, r.next, r.signedSize)
	}
	if r.logf, err = os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err != nil {
		return nil, err
	}
	// A new log (or one whose header a crash cut) is written in the
	// binary format; a JSON log keeps its format.
	r.format = format
	if format == formatNone {
		if err := r.logf.Truncate(0); err != nil {
			r.logf.Close()
			return nil, err
		}
		if _, err := r.logf.WriteString(binaryMagic); err != nil {
			r.logf.Close()
			return nil, err
		}
		r.format, r.off = formatBinary, int64(len(binaryMagic))
	}
	if r.cpf, err = os.OpenFile(cpPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err != nil {
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
	if err == nil && r.err == nil {
		// Every receipt and checkpoint is durable: the next Open starts
		// from here.
		err = r.saveTail()
	}
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
