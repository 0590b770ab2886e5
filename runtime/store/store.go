// This file implements opening, verifying, repairing and closing a data
// directory.

package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/knhk/knhk/internal/atomicfile"
)

// DefaultDir is the data directory the engine uses unless told otherwise
// (the CLI's --data flag).
const DefaultDir = ".knhk"

// Options tunes a Store. The zero value is ready to use.
type Options struct {
	// SegmentBytes is the size at which the active segment is sealed and a
	// new one started (default 64 MiB). A segment may exceed it by one
	// group-commit batch.
	SegmentBytes int64
	// MaxRecordBytes bounds the on-disk size of one record (default 16 MiB,
	// at most 1 GiB).
	// Open treats a length field above it as damage, so lowering it on an
	// existing directory can make Open fail.
	MaxRecordBytes int
	// MaxBatchBytes bounds how many bytes one group commit writes before
	// its fsync (default 4 MiB).
	MaxBatchBytes int
	// Logf, if set, receives one line when Open repairs a torn tail.
	Logf func(format string, args ...any)
}

func (o Options) withDefaults() Options {
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = 64 << 20
	}
	if o.MaxRecordBytes <= 0 {
		o.MaxRecordBytes = 16 << 20
	}
	if o.MaxRecordBytes > 1<<30 {
		o.MaxRecordBytes = 1 << 30 // lengths are 32-bit on disk
	}
	if o.MaxRecordBytes < frameHeaderSize+minBodySize {
		o.MaxRecordBytes = frameHeaderSize + minBodySize
	}
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = 4 << 20
	}
	return o
}

// OpenReport says what Open found and what, if anything, it repaired.
type OpenReport struct {
	Segments    int  // log segments in the directory
	Verified    int  // segments whose every record Open read
	LastSeq     Seq  // last record in the log, 0 if empty
	SnapshotSeq Seq  // sequence number of the latest snapshot
	HasSnapshot bool // whether there is a snapshot
	// Repaired is set when a torn final record was truncated away.
	Repaired   bool
	TornFile   string // the segment that was truncated
	TornOffset int64  // the size it was truncated to
	TornBytes  int64  // how many bytes were dropped
	// Removed lists leftovers of interrupted writes and superseded
	// snapshots that Open deleted.
	Removed []string
}

// Store is an open data directory. Its methods are safe for concurrent use.
type Store struct {
	dir    string
	opts   Options
	lock   *os.File
	report OpenReport

	// sendMu orders Append's hand-off to the committer against Close.
	sendMu     sync.RWMutex
	sendClosed bool
	reqs       chan *request
	done       chan struct{}

	mu      sync.Mutex // guards the fields below
	closed  bool
	segs    []segment
	lastSeq Seq
	snapSeq Seq
	hasSnap bool

	// Owned by the committer goroutine.
	active *os.File
	buf    []byte
	failed error

	commits atomic.Uint64 // group commits (fsyncs) since Open
	records atomic.Uint64 // records committed since Open

	snapMu    sync.Mutex   // serialises snapshot writes and reads
	compactMu sync.RWMutex // readers hold it shared, Compact exclusive
}

// Open opens or creates the data directory dir, takes its lock, verifies
// it and starts the committer. Corruption other than a torn tail yields a
// [*CorruptError] and leaves every file as it was; a second Open of a
// directory that is in use fails with [ErrLocked].
func Open(dir string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	lock, err := lockDir(filepath.Join(dir, "LOCK"))
	if err != nil {
		return nil, err
	}
	s := &Store{dir: dir, opts: opts, lock: lock}
	if err := s.recover(); err != nil {
		unlockDir(lock)
		return nil, err
	}
	s.reqs = make(chan *request, 1024)
	s.done = make(chan struct{})
	go s.commitLoop()
	return s, nil
}

// Report returns what Open found and repaired.
func (s *Store) Report() OpenReport { return s.report }

// Dir returns the data directory.
func (s *Store) Dir() string { return s.dir }

// LastSeq returns the sequence number of the last committed record.
func (s *Store) LastSeq() Seq {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastSeq
}

// Stats counts the work done since Open.
type Stats struct {
	Commits uint64 // group commits, each one write and one fsync
	Records uint64 // records committed
}

// Stats returns counters for monitoring; Records/Commits is the average
// group-commit batch.
func (s *Store) Stats() Stats {
	return Stats{Commits: s.commits.Load(), Records: s.records.Load()}
}

// recover verifies the directory and, only when everything but a torn tail
// checks out, repairs the tail, removes leftovers and opens the active
// segment for appending.
func (s *Store) recover() error {
	l, err := listDir(s.dir)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	rep := &s.report

	// The latest snapshot bounds what recovery replays; a damaged one is
	// fatal rather than silently skipped.
	if n := len(l.snapshots); n > 0 {
		name := l.snapshots[n-1]
		want, _ := parseSeqName(name, snapshotPrefix, snapshotExt)
		path := filepath.Join(s.dir, name)
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		if _, err := decodeSnapshot(path, b, want); err != nil {
			return err
		}
		s.snapSeq, s.hasSnap = want, true
		rep.SnapshotSeq, rep.HasSnapshot = want, true
	}

	if len(l.segments) == 0 {
		if s.hasSnap {
			return corrupt(filepath.Join(s.dir, snapshotName(s.snapSeq)), 0, "snapshot has no log segments after it")
		}
		return s.finishRecovery(l, nil)
	}

	// Headers and the chain between segments: cheap checks on every file.
	segs := make([]segment, len(l.segments))
	for i, name := range l.segments {
		path := filepath.Join(s.dir, name)
		fi, err := os.Stat(path)
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		hb, err := readAt(path, 0, segmentHeaderSize)
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		h, err := decodeSegmentHeader(path, hb)
		if err != nil {
			return err
		}
		if want, _ := parseSeqName(name, "", segmentExt); h.firstSeq != want {
			return corrupt(path, 12, "segment header says first sequence number %d but its name says %d", h.firstSeq, want)
		}
		segs[i] = segment{path: path, header: h, size: fi.Size(), lastSeq: h.firstSeq - 1}
		if i == 0 {
			continue
		}
		prev := &segs[i-1]
		if h.prevFirstSeq != prev.header.firstSeq || h.firstSeq <= prev.header.firstSeq {
			return corrupt(path, 20, "previous segment should start at sequence number %d but the one found starts at %d (a segment is missing)", h.prevFirstSeq, prev.header.firstSeq)
		}
		if h.prevSize != prev.size {
			return corrupt(prev.path, min(prev.size, h.prevSize), "sealed segment is %d bytes but was %d when sealed (truncated or overwritten)", prev.size, h.prevSize)
		}
		prev.lastSeq = h.firstSeq - 1
	}
	first := segs[0].header.firstSeq
	switch {
	case !s.hasSnap && first != 1:
		return corrupt(segs[0].path, 12, "log starts at sequence number %d and no snapshot covers the records before it", first)
	case s.hasSnap && first > s.snapSeq+1:
		return corrupt(segs[0].path, 12, "log starts at sequence number %d but the latest snapshot ends at %d", first, s.snapSeq)
	}

	// Read every record recovery will replay, and the whole last segment.
	start := 0
	for i := range segs {
		if segs[i].header.firstSeq <= s.snapSeq+1 {
			start = i
		}
	}
	var torn *segment
	var tornAt int64
	for i := start; i < len(segs); i++ {
		last := i == len(segs)-1
		at, err := s.verifySegment(&segs[i], last)
		if err != nil {
			return err
		}
		rep.Verified++
		if at >= 0 {
			torn, tornAt = &segs[i], at
		}
		if !last && segs[i].lastSeq != segs[i+1].header.firstSeq-1 {
			return corrupt(segs[i].path, segs[i].size, "segment ends at sequence number %d but the next starts at %d", segs[i].lastSeq, segs[i+1].header.firstSeq)
		}
	}
	lastSeq := segs[len(segs)-1].lastSeq
	if s.hasSnap && s.snapSeq > lastSeq {
		return corrupt(filepath.Join(s.dir, snapshotName(s.snapSeq)), 12, "snapshot at sequence number %d is ahead of the log, which ends at %d", s.snapSeq, lastSeq)
	}

	// Everything checks out: from here on the directory may be modified.
	if torn != nil {
		dropped := torn.size - tornAt
		if err := truncateSync(torn.path, tornAt); err != nil {
			return fmt.Errorf("store: repair torn tail: %w", err)
		}
		torn.size = tornAt
		rep.Repaired, rep.TornFile, rep.TornOffset, rep.TornBytes = true, torn.path, tornAt, dropped
		if s.opts.Logf != nil {
			s.opts.Logf("store: %s: truncated torn final record at offset %d (%d bytes dropped)", torn.path, tornAt, dropped)
		}
	}
	return s.finishRecovery(l, segs)
}

// verifySegment reads every frame of seg, checking checksums and sequence
// numbers. For the last segment it returns the offset of a torn tail to
// truncate, or -1; any other damage is a CorruptError.
func (s *Store) verifySegment(seg *segment, last bool) (int64, error) {
	fr, _, err := openFrameReader(seg.path, seg.size, s.opts.MaxRecordBytes)
	if err != nil {
		return -1, err
	}
	defer fr.close()
	expect := seg.header.firstSeq
	for {
		rec, err := fr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if !isFrameError(err) {
				return -1, fmt.Errorf("store: read %s: %w", seg.path, err)
			}
			if !last {
				return -1, corrupt(seg.path, fr.off, "%v", err)
			}
			tail, rerr := readAt(seg.path, fr.off, seg.size-fr.off)
			if rerr != nil {
				return -1, fmt.Errorf("store: read %s: %w", seg.path, rerr)
			}
			if p, ok := intactFrameAfter(tail, expect-1, s.opts.MaxRecordBytes); ok {
				return -1, corrupt(seg.path, fr.off, "%v, followed by an intact record at offset %d", err, fr.off+int64(p))
			}
			seg.lastSeq = expect - 1
			return fr.off, nil
		}
		if rec.Seq != expect {
			return -1, corrupt(seg.path, fr.off, "record has sequence number %d where %d was expected", rec.Seq, expect)
		}
		expect++
	}
	seg.lastSeq = expect - 1
	return -1, nil
}

// finishRecovery removes leftovers, creates the first segment of a new
// directory and opens the last segment for appending.
func (s *Store) finishRecovery(l dirListing, segs []segment) error {
	rep := &s.report
	var removed []string
	for _, name := range l.temps {
		removed = append(removed, name)
	}
	for i, name := range l.snapshots {
		if i < len(l.snapshots)-1 {
			removed = append(removed, name)
		}
	}
	for _, name := range removed {
		if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("store: remove leftover: %w", err)
		}
	}
	rep.Removed = removed
	if len(segs) == 0 {
		h := segmentHeader{firstSeq: 1}
		name := segmentName(1)
		if err := atomicfile.Write(filepath.Join(s.dir, name), h.encode(), 0o644); err != nil {
			return fmt.Errorf("store: create first segment: %w", err)
		}
		segs = []segment{{path: filepath.Join(s.dir, name), header: h, size: segmentHeaderSize}}
		rep.Verified++
	} else if len(removed) > 0 {
		if err := atomicfile.SyncDir(s.dir); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	last := segs[len(segs)-1]
	f, err := os.OpenFile(last.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	s.active = f
	s.segs = segs
	s.lastSeq = last.lastSeq
	rep.Segments = len(segs)
	rep.LastSeq = s.lastSeq
	return nil
}

func truncateSync(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Close waits for every accepted append to be committed, then releases the
// data directory. Calls after Close return [ErrClosed].
func (s *Store) Close() error {
	s.sendMu.Lock()
	if s.sendClosed {
		s.sendMu.Unlock()
		return ErrClosed
	}
	s.sendClosed = true
	close(s.reqs)
	s.sendMu.Unlock()
	<-s.done

	s.snapMu.Lock()
	s.compactMu.Lock()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.compactMu.Unlock()
	s.snapMu.Unlock()

	err := s.active.Close()
	if uerr := unlockDir(s.lock); err == nil {
		err = uerr
	}
	return err
}
