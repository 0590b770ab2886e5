// This file implements opening, verifying, repairing and closing a data
// directory.

package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
	// PreallocBytes is how far ahead of the acknowledged end a
	// background goroutine keeps the active segment written with zeros
	// and synced, so that a commit overwrites allocated blocks and its
	// fdatasync flushes data without a journal commit for the grown file
	// (default 1 MiB; negative turns it off). See prealloc.go.
	PreallocBytes int64
	// NoCommitDelay makes the committer write each batch as soon as the
	// previous one is durable, never waiting for stragglers (see
	// commitLoop). The wait gathers appenders that each commit wakes and
	// that come back at once with their next record. knhk serve turns it
	// off: its cases hand their records over without waiting for the
	// commit before (AppendAsync, early dispatch), so no stragglers are
	// on their way, and the wait only delayed the cases waiting for the
	// commit by up to half an fsync, several times per case.
	NoCommitDelay bool
	// Logf, if set, receives one line when Open repairs a torn tail.
	Logf func(format string, args ...any)
	// OnCommit, if set, is called by the committer after each group
	// commit is durable, before its appenders return (metrics: fsync
	// latency, batch sizes). It must be quick and must not append.
	OnCommit func(CommitInfo)
	// OpenPayload, if set, is given every record a scan reads and
	// returns the payload the reader sees (see transform.go): knhk
	// serve's crypto-shredding decrypts case payloads here, so that every
	// reader of the log sees them in clear.
	OpenPayload func(caseID, kind, payload []byte) ([]byte, error)
	// SealPayload, if set, is given every record appended and returns
	// the payload to store (OpenPayload's inverse; see transform.go).
	SealPayload func(caseID, kind string, payload []byte) ([]byte, error)
}

// CommitInfo describes one group commit, for [Options.OnCommit].
type CommitInfo struct {
	Records int           // records made durable
	Bytes   int           // bytes written, framing included
	Sync    time.Duration // how long the fdatasync took
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
	if o.PreallocBytes == 0 {
		o.PreallocBytes = defaultPreallocBytes
	}
	return o
}

// OpenReport says what Open found and what, if anything, it dropped.
type OpenReport struct {
	Segments    int  // log segments in use
	LastSeq     Seq  // last acknowledged record, 0 if none
	SnapshotSeq Seq  // sequence number of the latest snapshot
	HasSnapshot bool // whether there is a snapshot
	// Repaired is set when Open dropped bytes after the acknowledged end
	// of the log: the remains of a commit that never returned.
	Repaired   bool
	TornFile   string // the segment that was truncated
	TornOffset int64  // the size it was truncated to
	TornBytes  int64  // how many bytes were dropped
	// Removed lists leftovers of interrupted writes, superseded snapshots
	// and never-acknowledged segments that Open deleted.
	Removed []string
}

// Store is an open data directory. Its methods are safe for concurrent use,
// and any number of Stores, in this and other processes, may have the same
// directory open (see the package documentation).
type Store struct {
	dir      string
	opts     Options
	readOnly bool
	lockf    *os.File // DIR/LOCK, flocked around each commit; nil when read-only
	report   OpenReport

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
	head    head // HEAD as this Store last read or wrote it
	mark    mark // the active segment's mark, likewise
	// prepEnd is how far the preparer last left segment prepSeg written
	// with zeros and synced: a hint for when to kick it again.
	prepSeg Seq
	prepEnd int64

	// Owned by the committer goroutine.
	active *os.File
	buf    []byte
	// headPath is DIR/HEAD; headInfo is HEAD's identity when last read,
	// nil when it must be read again (see unchanged.go).
	headPath string
	headInfo fs.FileInfo
	markBuf  [markSlot1 + markSlotSize - markSlot0]byte // both mark slots
	slackBuf [1 + frameHeaderSize]byte                  // the last acknowledged byte and the frame header after it (unchanged)
	// alwaysCatchUp turns unchanged off: the previous behaviour, for
	// BenchmarkCommit's baseline.
	alwaysCatchUp bool
	failed        error
	// failedPub publishes failed to other goroutines ([Store.Err]).
	failedPub atomic.Pointer[error]

	// commitMu is held by a commit, by the preparer while it writes
	// zeros, and by Compact: each of them holds the directory's lock,
	// which flock(2) gives per open file, not per goroutine, so without
	// it one's unlock would release the other's lock.
	commitMu sync.Mutex
	// The preparer (prealloc.go): kicked by commits, stopped by Close.
	prepKick chan struct{}
	prepStop chan struct{}
	prepDone chan struct{}

	commits atomic.Uint64 // group commits (fsyncs) since Open
	records atomic.Uint64 // records committed since Open

	snapMu    sync.Mutex   // serialises snapshot writes and reads
	compactMu sync.RWMutex // readers hold it shared, Compact exclusive
}

// lockName is the lock file every writer flocks around its commits.
const lockName = "LOCK"

// Open opens or creates the data directory dir for appending, verifies it
// and starts the committer. Damage to acknowledged records yields a
// [*CorruptError] and leaves every file as it was. Other Stores, in this
// or other processes, may have dir open at the same time: each commit
// takes the directory's lock for its write and fsyncs only.
func Open(dir string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	lockf, err := openLock(filepath.Join(dir, lockName))
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	s := &Store{dir: dir, opts: opts, lockf: lockf, headPath: filepath.Join(dir, headName)}
	if err := lockEx(lockf); err != nil {
		lockf.Close()
		return nil, fmt.Errorf("store: lock %s: %w", lockf.Name(), err)
	}
	err = s.recover(true)
	unlock(lockf)
	if err != nil {
		s.closeFiles()
		return nil, err
	}
	s.reqs = make(chan *request, 1024)
	s.done = make(chan struct{})
	go s.commitLoop()
	s.startPreparer()
	return s, nil
}

// OpenReadOnly opens the existing data directory dir for reading. It
// never creates, modifies or locks anything, so it works on a read-only
// copy and beside any number of writers; it sees the records acknowledged
// when it was called. Appends and snapshot writes fail with
// [ErrReadOnly]. A directory without a log reads as empty.
func OpenReadOnly(dir string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("store: %s is not a directory", dir)
	}
	// A writer may start a segment while this reads the directory: HEAD
	// then names a segment the listing missed, or a segment after the one
	// HEAD named has records. Such a view is retried; damage that stays
	// put under an unchanged HEAD is reported.
	// The same holds for a commit that lands while the active segment is
	// read: the view is retried while the log moves under it.
	for attempt := 0; ; attempt++ {
		before := logState(dir)
		s := &Store{dir: dir, opts: opts, readOnly: true}
		err := s.recover(false)
		if err == nil {
			return s, nil
		}
		if attempt == 10 || logState(dir) == before {
			return nil, err
		}
	}
}

// logState is what a writer changes when it commits or starts a segment:
// HEAD and the name and size of every segment. A reader whose view failed
// to check out retries while it changes.
func logState(dir string) string {
	var b strings.Builder
	head, _ := os.ReadFile(filepath.Join(dir, headName))
	b.Write(head)
	l, err := listDir(dir)
	if err != nil {
		return b.String()
	}
	for _, name := range l.segments {
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil {
			fmt.Fprintf(&b, "|%s:%d", name, fi.Size())
		}
	}
	return b.String()
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

// Err returns the error that stopped appends (a failed write, fsync or
// start of a new segment), nil while appends work. Appends fail with it
// until the directory is reopened, so a server reports itself unhealthy
// (its /healthz and /readyz) rather than refusing every call while
// looking fine.
func (s *Store) Err() error {
	if p := s.failedPub.Load(); p != nil {
		return *p
	}
	return nil
}

// recover checks the directory against HEAD and the active segment's
// mark and, when write is set and only never-acknowledged bytes are
// wrong, drops them, removes leftovers and opens the active segment for
// appending. Without write it only reads.
func (s *Store) recover(write bool) error {
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
	segs, err := readSegments(s.dir, l)
	if err != nil {
		return err
	}
	h, err := readHeadFile(filepath.Join(s.dir, headName))
	if errors.Is(err, errNoHead) {
		return s.recoverWithoutHead(l, segs, write)
	}
	if err != nil {
		return err
	}
	ai, m, err := checkAcknowledged(s.dir, segs, h, s.opts.MaxRecordBytes)
	if err != nil {
		return err
	}
	active := &segs[ai]
	first := segs[0].header.firstSeq
	switch {
	case !s.hasSnap && first != 1:
		return corrupt(segs[0].path, 12, "log starts at sequence number %d and no snapshot covers the records before it", first)
	case s.hasSnap && first > s.snapSeq+1:
		return corrupt(segs[0].path, 12, "log starts at sequence number %d but the latest snapshot ends at %d", first, s.snapSeq)
	case s.hasSnap && s.snapSeq > m.lastSeq:
		return corrupt(filepath.Join(s.dir, snapshotName(s.snapSeq)), 12, "snapshot at sequence number %d is ahead of the log, which ends at %d", s.snapSeq, m.lastSeq)
	}
	unacked := segs[ai+1:]
	torn := active.size - m.size
	segs = segs[:ai+1]
	active.size, active.lastSeq = m.size, m.lastSeq
	s.head, s.mark = h, m
	if !write {
		s.segs, s.lastSeq = segs, m.lastSeq
		rep.Segments, rep.LastSeq = len(segs), m.lastSeq
		return nil
	}

	// Everything acknowledged checks out: from here on the directory may
	// be modified, and only what was never acknowledged is dropped. Zeros
	// after the mark are preallocated space (prealloc.go) and stay; any
	// other byte there is a torn commit, whose tail goes.
	if torn > 0 {
		zeros, err := zeroTail(active.path, m.size, m.size+torn)
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		if zeros {
			torn = 0
		}
	}
	if torn > 0 {
		if err := truncateSync(active.path, m.size); err != nil {
			return fmt.Errorf("store: drop unacknowledged tail: %w", err)
		}
		rep.Repaired, rep.TornFile, rep.TornOffset, rep.TornBytes = true, active.path, m.size, torn
		if s.opts.Logf != nil {
			s.opts.Logf("store: %s: dropped %d unacknowledged bytes after offset %d", active.path, torn, m.size)
		}
	}
	for _, u := range unacked {
		l.temps = append(l.temps, filepath.Base(u.path))
		if s.opts.Logf != nil {
			s.opts.Logf("store: %s: removed a segment with no acknowledged record", u.path)
		}
	}
	return s.finishRecovery(l, segs)
}

// recoverWithoutHead handles a directory with no HEAD: a new one, or one
// whose HEAD was lost. A log that holds records cannot be checked without
// HEAD, so it is refused; an empty one is initialised.
func (s *Store) recoverWithoutHead(l dirListing, segs []segment, write bool) error {
	headPath := filepath.Join(s.dir, headName)
	if len(segs) > 0 || s.hasSnap {
		return corrupt(headPath, 0, "HEAD, which names the segment holding the acknowledged end of the log, is missing although the log has segments (knhk repair rebuilds it from the log)")
	}
	if !write {
		return nil // nothing was ever acknowledged: an empty log
	}
	h := segmentHeader{firstSeq: 1}
	m := mark{gen: 1, size: segmentDataStart}
	path := filepath.Join(s.dir, segmentName(1))
	if err := atomicfile.Write(path, newSegmentBytes(h, m), 0o644); err != nil {
		return fmt.Errorf("store: create first segment: %w", err)
	}
	hd := head{gen: 1, activeFirst: 1}
	if err := writeHead(s.dir, hd); err != nil {
		return fmt.Errorf("store: create HEAD: %w", err)
	}
	s.head, s.mark = hd, m
	return s.finishRecovery(l, []segment{{path: path, header: h, size: segmentDataStart}})
}

// readSegments reads every segment header and checks the chain between
// segments: cheap checks on every file. Sealed segments get their size
// and last sequence number from the next segment's header.
func readSegments(dir string, l dirListing) ([]segment, error) {
	segs := make([]segment, len(l.segments))
	for i, name := range l.segments {
		path := filepath.Join(dir, name)
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		hb, err := readAt(path, 0, segmentHeaderSize)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		h, err := decodeSegmentHeader(path, hb)
		if err != nil {
			return nil, err
		}
		if want, _ := parseSeqName(name, "", segmentExt); h.firstSeq != want {
			return nil, corrupt(path, 12, "segment header says first sequence number %d but its name says %d", h.firstSeq, want)
		}
		segs[i] = segment{path: path, header: h, size: fi.Size(), lastSeq: h.firstSeq - 1}
		if i == 0 {
			continue
		}
		prev := &segs[i-1]
		if h.prevFirstSeq != prev.header.firstSeq || h.firstSeq <= prev.header.firstSeq {
			return nil, corrupt(path, 20, "previous segment should start at sequence number %d but the one found starts at %d (a segment is missing)", h.prevFirstSeq, prev.header.firstSeq)
		}
		if prev.size > h.prevSize && h.prevSize >= segmentDataStart {
			// Zeros after a sealed segment's end are preallocated space
			// (prealloc.go) that was not cut off when it was sealed, as
			// when an older writer, which does not know of it, sealed
			// a segment a newer one had prepared: not data, not read.
			zeros, err := zeroTail(prev.path, h.prevSize, prev.size)
			if err != nil {
				return nil, fmt.Errorf("store: %w", err)
			}
			if zeros {
				prev.size = h.prevSize
			}
		}
		if h.prevSize != prev.size {
			return nil, corrupt(prev.path, min(prev.size, h.prevSize), "sealed segment is %d bytes but was %d when sealed (truncated or overwritten)", prev.size, h.prevSize)
		}
		prev.lastSeq = h.firstSeq - 1
	}
	return segs, nil
}

// checkAcknowledged checks that everything the log acknowledged is there:
// the active segment HEAD names, at least its mark's size of it, and the
// last acknowledged record whole where the mark says (in the segment
// before when the active one holds no record yet). It returns the index
// of the active segment and its mark.
func checkAcknowledged(dir string, segs []segment, h head, maxBody int) (int, mark, error) {
	ai := -1
	for i := range segs {
		if segs[i].header.firstSeq == h.activeFirst {
			ai = i
		}
	}
	if ai < 0 {
		return 0, mark{}, corrupt(filepath.Join(dir, segmentName(h.activeFirst)), 0, "segment is missing, yet HEAD says it holds the acknowledged end of the log")
	}
	active := &segs[ai]
	// A segment after the active one comes from a rotation that died
	// before HEAD named it, and nobody appends to it: one holding records
	// means HEAD is stale, and dropping it would lose them.
	for _, later := range segs[ai+1:] {
		if later.size > segmentDataStart {
			return 0, mark{}, corrupt(later.path, segmentDataStart, "segment holds records, yet HEAD names the earlier segment %s as the acknowledged end (HEAD is stale)", filepath.Base(active.path))
		}
	}
	m, err := readMarkFile(active.path, maxBody)
	if err != nil {
		return 0, mark{}, err
	}
	if active.size < m.size {
		// The listing took the segment's size before the mark was read;
		// a writer that committed in between grew both. Only a segment
		// still shorter than its mark has lost acknowledged records.
		if fi, err := os.Stat(active.path); err == nil && fi.Size() >= m.size {
			active.size = fi.Size()
		}
	}
	if active.size < m.size {
		return 0, mark{}, corrupt(active.path, active.size, "segment is %d bytes but %d were acknowledged: acknowledged records up to %d were lost", active.size, m.size, m.lastSeq)
	}
	if m.lastSeq < h.activeFirst-1 {
		return 0, mark{}, corrupt(active.path, markSlot0, "acknowledged end %d is before the segment's first record %d", m.lastSeq, h.activeFirst)
	}
	seg, lm, end := active, m, m.size
	if m.lastOff == 0 {
		if m.lastSeq != h.activeFirst-1 {
			return 0, mark{}, corrupt(active.path, markSlot0, "acknowledged end %d names no record of this segment", m.lastSeq)
		}
		if ai == 0 {
			return ai, m, nil // an empty log
		}
		// Just after a rotation: the last record ends the previous segment.
		seg = &segs[ai-1]
		if lm, err = readMarkFile(seg.path, maxBody); err != nil {
			return 0, mark{}, err
		}
		end = seg.size
		if lm.lastSeq != m.lastSeq || lm.lastOff == 0 || lm.size != seg.size {
			return 0, mark{}, corrupt(seg.path, markSlot0, "sealed segment's acknowledged end (record %d, %d bytes) does not meet the next segment (record %d, %d bytes)", lm.lastSeq, lm.size, m.lastSeq, seg.size)
		}
	}
	b, err := readAt(seg.path, lm.lastOff, min(end-lm.lastOff, int64(maxBody)+frameHeaderSize))
	if err != nil {
		return 0, mark{}, fmt.Errorf("store: %w", err)
	}
	rec, n, err := decodeFrame(b, maxBody)
	switch {
	case err != nil:
		return 0, mark{}, corrupt(seg.path, lm.lastOff, "last acknowledged record %d is damaged: %v", lm.lastSeq, err)
	case rec.Seq != lm.lastSeq:
		return 0, mark{}, corrupt(seg.path, lm.lastOff, "last acknowledged record should be %d but is %d", lm.lastSeq, rec.Seq)
	case lm.lastOff+int64(n) != end:
		return 0, mark{}, corrupt(seg.path, lm.lastOff+int64(n), "acknowledged records end at offset %d, not after record %d", end, lm.lastSeq)
	}
	return ai, m, nil
}

// finishRecovery removes leftovers and opens the active segment and HEAD
// for writing.
func (s *Store) finishRecovery(l dirListing, segs []segment) error {
	rep := &s.report
	var removed []string
	removed = append(removed, l.temps...)
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
	if len(removed) > 0 {
		if err := atomicfile.SyncDir(s.dir); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	last := segs[len(segs)-1]
	f, err := os.OpenFile(last.path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	s.active = f
	// A damaged mark slot (see loadMark) is rewritten from the mark Open
	// settled on, so that both slots are whole again.
	if _, complete, err := readMark(f, last.path); err != nil || !complete {
		for range 2 {
			s.mark.gen++
			if err := putMark(f, s.mark); err != nil {
				return fmt.Errorf("store: %w", err)
			}
		}
		if err := atomicfile.SyncData(f); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
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

// Close waits for every accepted append to be committed, then closes the
// data directory's files. Calls after Close return [ErrClosed].
func (s *Store) Close() error {
	s.sendMu.Lock()
	if s.sendClosed {
		s.sendMu.Unlock()
		return ErrClosed
	}
	s.sendClosed = true
	if s.reqs != nil {
		close(s.reqs)
	}
	s.sendMu.Unlock()
	if s.done != nil {
		<-s.done
	}
	s.stopPreparer()

	s.snapMu.Lock()
	s.compactMu.Lock()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.trimOnClose()
	s.compactMu.Unlock()
	s.snapMu.Unlock()
	return s.closeFiles()
}

// closeFiles closes whatever files s has open.
func (s *Store) closeFiles() error {
	var err error
	for _, f := range []*os.File{s.active, s.lockf} {
		if f != nil {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
	}
	return err
}
