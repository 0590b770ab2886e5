// This file implements Log: the durable, group-committed append of audit
// records, shared by every process that writes a data directory's log.

package audit

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Paths under a data directory.
const (
	Dir         = "audit"
	LogFile     = "log"
	AnchorsFile = "anchors"
)

// header is the log file's first line.
const header = "knhk-audit/v1\n"

// Log appends to the audit log of a data directory. Its methods are safe
// for concurrent use, and several processes may hold one directory's
// Log at once.
type Log struct {
	path string
	f    *os.File

	mu      sync.Mutex
	queue   []*pending
	err     error // the first write error: every later Append fails with it
	closing bool
	// What this process knows of the file, guarded by fmu: its length,
	// the next record's sequence number and the last record's hash.
	fmu  sync.Mutex
	off  int64
	next uint64
	prev Digest

	// The records queued by AppendLater and not yet taken by the
	// writer, the generation of the timer armed for them, and how long
	// they may wait (later.go); guarded by mu.
	later      int
	laterGen   uint64
	laterDelay time.Duration
	// commits counts the batches written, for tests and benchmarks.
	commits atomic.Uint64

	wake chan struct{}
	stop chan struct{}
	done chan struct{}
}

// pending is a queued record: an Append's (done), an AppendLater's
// (then, possibly nil) or a Flush's marker, which writes nothing.
type pending struct {
	r      Record
	done   chan error
	then   func(error)
	marker bool
}

// tell hands the batch's outcome to p's caller.
func (p *pending) tell(err error) {
	switch {
	case p.done != nil:
		p.done <- err
	case p.then != nil:
		p.then(err)
	}
}

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("audit log closed")

// Open opens (creating it if needed) the audit log of data directory
// data. The records already there are read and their chain checked; a
// damaged log is refused with the first bad record, as knhk audit verify
// reports it.
func Open(data string) (*Log, error) {
	dir := filepath.Join(data, Dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, LogFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	l := &Log{path: path, f: f, laterDelay: DefaultLaterDelay, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	if err := l.locked(l.catchUp); err != nil {
		f.Close()
		return nil, err
	}
	go l.writer()
	return l, nil
}

// locked runs fn under the file's exclusive lock.
func (l *Log) locked(fn func() error) error {
	if err := lockFile(l.f); err != nil {
		return fmt.Errorf("locking %s: %w", l.path, err)
	}
	defer unlockFile(l.f)
	return fn()
}

// catchUp reads what was appended since this process last looked (by
// another process, or everything at open), writing the header of a new
// log and dropping a line cut short at the end by a crash. The caller
// holds the file lock.
func (l *Log) catchUp() error {
	fi, err := l.f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	switch {
	case size == l.off && l.off > 0:
		return nil
	case size < l.off:
		return fmt.Errorf("audit log %s shrank from %d to %d bytes: it was truncated behind this process's back", l.path, l.off, size)
	case size < int64(len(header)):
		// New, or its header cut by a crash: nothing was acknowledged.
		if err := l.f.Truncate(0); err != nil {
			return err
		}
		if _, err := l.f.Write([]byte(header)); err != nil {
			return err
		}
		if err := l.f.Sync(); err != nil {
			return err
		}
		syncDir(filepath.Dir(l.path))
		l.off = int64(len(header))
		return nil
	}
	from := l.off
	if from == 0 {
		from = int64(len(header))
		if err := checkHeader(l.f); err != nil {
			return fmt.Errorf("audit log %s: %w", l.path, err)
		}
	}
	c := chain{next: l.next, prev: l.prev}
	end, cut, err := scan(io.NewSectionReader(l.f, from, size-from), from, func(r *Record, _ int64) error { return c.add(r) })
	if err != nil {
		return fmt.Errorf("audit log %s is damaged: %w (knhk audit verify reports it)", l.path, err)
	}
	if cut {
		// A batch a crash cut short was never acknowledged.
		if err := l.f.Truncate(end); err != nil {
			return err
		}
	}
	l.off, l.next, l.prev = end, c.next, c.prev
	return nil
}

func checkHeader(f io.ReaderAt) error {
	b := make([]byte, len(header))
	if _, err := f.ReadAt(b, 0); err != nil {
		return fmt.Errorf("reading its header: %v", err)
	}
	if string(b) != header {
		return fmt.Errorf("not an audit log: it starts %q, not %q", b, header[:len(header)-1])
	}
	return nil
}

// Append adds r to the log and returns it as written (sequence number,
// previous hash and hash filled in) once it is durable. The time is set
// when r has none.
func (l *Log) Append(r Record) (Record, error) {
	r.clip()
	p := &pending{r: r, done: make(chan error, 1)}
	if err := l.enqueue(p); err != nil {
		return Record{}, err
	}
	if err := <-p.done; err != nil {
		return Record{}, err
	}
	return p.r, nil
}

// enqueue queues p for the writer and wakes it, unless the log failed or
// is closing: a record queued after Close's last batch would never be
// answered.
func (l *Log) enqueue(p *pending) error {
	l.mu.Lock()
	if l.err != nil || l.closing {
		err := l.err
		l.mu.Unlock()
		if err == nil {
			err = ErrClosed
		}
		return err
	}
	l.queue = append(l.queue, p)
	l.mu.Unlock()
	l.kick()
	return nil
}

// kick wakes the writer; it never blocks.
func (l *Log) kick() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// writer writes the queued records in batches, one write and one fsync
// each, until Close.
func (l *Log) writer() {
	defer close(l.done)
	for {
		select {
		case <-l.wake:
		case <-l.stop:
			l.flush()
			return
		}
		l.flush()
	}
}

// flush writes every queued record and tells their callers.
func (l *Log) flush() {
	l.mu.Lock()
	batch := l.queue
	l.queue = nil
	l.later = 0
	l.laterGen++ // the timer armed for those records is moot
	failed := l.err
	l.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	err := failed
	if err == nil {
		l.fmu.Lock()
		err = l.locked(func() error { return l.write(batch) })
		l.fmu.Unlock()
	}
	if err != nil && failed == nil {
		l.mu.Lock()
		l.err = fmt.Errorf("audit log %s: %w", l.path, err)
		err = l.err
		l.mu.Unlock()
	}
	for _, p := range batch {
		p.tell(err)
	}
}

// write chains and appends batch; the caller holds the file lock.
func (l *Log) write(batch []*pending) error {
	if err := l.catchUp(); err != nil {
		return err
	}
	next, prev := l.next, l.prev
	var buf []byte
	for _, p := range batch {
		if p.marker {
			continue
		}
		p.r.Seq, p.r.Prev = next, prev
		p.r.Hash = p.r.ComputeHash()
		buf = append(buf, encodeLine(&p.r)...)
		next, prev = next+1, p.r.Hash
	}
	if len(buf) == 0 {
		return nil // markers only: what came before is durable
	}
	if _, err := l.f.Write(buf); err != nil {
		// Leave no partial batch for the next writer to chain onto.
		_ = l.f.Truncate(l.off)
		return err
	}
	if err := l.f.Sync(); err != nil {
		return err
	}
	l.commits.Add(1)
	l.off += int64(len(buf))
	l.next, l.prev = next, prev
	return nil
}

// Head returns the number of records in the log and the hash of the last
// one (zero for an empty log), including what other processes appended.
func (l *Log) Head() (uint64, Digest, error) {
	l.mu.Lock()
	err := l.err
	l.mu.Unlock()
	if err != nil {
		return 0, Digest{}, err
	}
	l.fmu.Lock()
	defer l.fmu.Unlock()
	if err := l.locked(l.catchUp); err != nil {
		return 0, Digest{}, err
	}
	return l.next, l.prev, nil
}

// Close writes what is queued and closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		return nil
	}
	l.closing = true
	l.mu.Unlock()
	close(l.stop)
	<-l.done
	l.mu.Lock()
	if l.err == nil {
		l.err = ErrClosed
	}
	l.mu.Unlock()
	return l.f.Close()
}

// syncDir makes a new file's directory entry durable.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
