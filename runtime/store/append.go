// This file implements appends and the group-commit loop that makes them
// durable.

package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/knhk/knhk/internal/atomicfile"
)

// request is one Append or AppendBatch waiting for the committer.
type request struct {
	recs  []Record
	one   [1]Record // backing array for Append, to avoid an allocation
	bytes int
	first Seq
	err   error
	done  chan struct{}
	// then, when set, is called by the committer instead of signalling
	// done (AppendAsync), with pos.
	then func(pos []Position, err error)
	pos  []Position
}

var requestPool = sync.Pool{New: func() any { return &request{done: make(chan struct{}, 1)} }}

// Append adds rec to the log and returns its sequence number once it is
// fsync'd. Concurrent appends share one fsync (group commit). ctx bounds
// only the wait to hand the record to the committer: once handed over,
// Append waits for the outcome, because a caller that gave up could not
// tell whether the record is in the log. Likewise, after an error from a
// failed write or fsync the record may or may not appear after reopening;
// the store refuses further appends until it is reopened.
func (s *Store) Append(ctx context.Context, rec Record) (Seq, error) {
	if s.readOnly {
		return 0, ErrReadOnly
	}
	r := requestPool.Get().(*request)
	r.one[0] = rec
	r.recs = r.one[:]
	seq, err := s.submit(ctx, r)
	r.one[0] = Record{}
	requestPool.Put(r)
	return seq, err
}

// AppendBatch adds recs with consecutive sequence numbers, the first of
// which it returns, once all of them are fsync'd. After a crash before it
// returns, any prefix of the batch may be in the log, so a transition that
// must apply exactly once belongs in one record. An empty batch returns 0.
func (s *Store) AppendBatch(ctx context.Context, recs []Record) (Seq, error) {
	if len(recs) == 0 {
		return 0, ctx.Err()
	}
	if s.readOnly {
		return 0, ErrReadOnly
	}
	r := requestPool.Get().(*request)
	r.recs = recs
	seq, err := s.submit(ctx, r)
	requestPool.Put(r)
	return seq, err
}

// AppendAsync hands recs to the committer and returns without waiting
// for them: then is called, on the committer's goroutine and in the
// order of the AppendAsync calls that returned nil, with the
// [Position] of each record (for [Store.ScanViews] to start there
// without reading its segment up to it) once all of recs are fsync'd,
// or with the error that kept them out of the log. then must be quick
// (it delays the next commit) and must not append. recs must not be
// changed before then is called. An error returned here means then
// will not be called and nothing of recs was handed over.
//
// It lets a caller go on working, and batch more records behind these,
// while the fsync runs; the caller must not tell anyone outside that
// the records are in the log before then says so.
func (s *Store) AppendAsync(ctx context.Context, recs []Record, then func(pos []Position, err error)) error {
	if s.readOnly {
		return ErrReadOnly
	}
	if len(recs) == 0 || then == nil {
		return fmt.Errorf("store: AppendAsync needs records and a callback")
	}
	r := &request{recs: recs, then: then, pos: make([]Position, len(recs))}
	return s.send(ctx, r)
}

func (s *Store) submit(ctx context.Context, r *request) (Seq, error) {
	defer func() { r.recs, r.first, r.err = nil, 0, nil }()
	if err := s.send(ctx, r); err != nil {
		return 0, err
	}
	<-r.done
	return r.first, r.err
}

// send sizes r and hands it to the committer.
func (s *Store) send(ctx context.Context, r *request) error {
	if err := s.sealRecords(r); err != nil { // transform.go
		return err
	}
	r.bytes = 0
	for i := range r.recs {
		n := frameSize(&r.recs[i])
		if n > s.opts.MaxRecordBytes {
			return fmt.Errorf("store: record of %d bytes exceeds the limit of %d", n, s.opts.MaxRecordBytes)
		}
		r.bytes += n
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.sendMu.RLock()
	defer s.sendMu.RUnlock()
	if s.sendClosed {
		return ErrClosed
	}
	select {
	case s.reqs <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// commitLoop is the single writer. Whatever is queued while one batch is
// being written and synced becomes the next batch, so the number of
// records per fsync grows with the number of concurrent appenders.
//
// Appenders woken by one commit need a moment to come back with their next
// record; without waiting for them, batches alternate between one record
// and all the others. So when a batch is smaller than the previous one, the
// committer waits for the stragglers, but never longer than half the last
// fsync took (Postgres's commit_delay, made adaptive). A single sequential
// appender has batches of one and never waits; Options.NoCommitDelay
// turns the wait off.
func (s *Store) commitLoop() {
	defer close(s.done)
	var (
		batch    []*request
		prevLen  int
		lastSync time.Duration
		timer    = time.NewTimer(time.Hour)
	)
	timer.Stop()
	for {
		r, ok := <-s.reqs
		if !ok {
			return
		}
		batch = append(batch[:0], r)
		size := r.bytes
		open := true
	drain:
		for size < s.opts.MaxBatchBytes {
			select {
			case r, ok := <-s.reqs:
				if !ok {
					open = false
					break drain
				}
				batch = append(batch, r)
				size += r.bytes
			default:
				break drain
			}
		}
		if open && !s.opts.NoCommitDelay && len(batch) < prevLen && lastSync > 0 {
			timer.Reset(min(lastSync/2, maxCommitDelay))
		wait:
			for len(batch) < prevLen && size < s.opts.MaxBatchBytes {
				select {
				case r, ok := <-s.reqs:
					if !ok {
						break wait
					}
					batch = append(batch, r)
					size += r.bytes
				case <-timer.C:
					break wait
				}
			}
			timer.Stop()
		}
		prevLen = len(batch)
		start := time.Now()
		s.commit(batch)
		lastSync = time.Since(start)
		for i, r := range batch {
			batch[i] = nil
			if r.then != nil {
				if r.err != nil {
					r.pos = nil
				}
				r.then(r.pos, r.err)
				continue
			}
			r.done <- struct{}{}
		}
	}
}

// maxCommitDelay caps the wait for stragglers on slow disks.
const maxCommitDelay = 2 * time.Millisecond

// commit writes batch after the active segment's acknowledged end, puts
// the new mark in the segment's next slot and covers both with one
// fdatasync, all under the directory's lock, and only then lets the
// appenders return. A failed write or fsync leaves the file in an unknown
// state (after a failed fsync the kernel may have dropped the dirty
// pages), so the store refuses all further appends; reopening recovers
// from what is on disk.
func (s *Store) commit(batch []*request) {
	if s.failed != nil {
		for _, r := range batch {
			r.err = s.failed
		}
		return
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	if err := lockEx(s.lockf); err != nil {
		s.fail(batch, fmt.Errorf("store: lock %s: %w", s.lockf.Name(), err))
		return
	}
	defer unlock(s.lockf)
	if err := s.catchUp(); err != nil {
		s.fail(batch, err)
		return
	}
	s.mu.Lock()
	next := s.lastSeq + 1
	m := s.mark
	segFirst := s.segs[len(s.segs)-1].header.firstSeq
	s.mu.Unlock()
	s.buf = s.buf[:0]
	seq := next
	var lastOff int
	for _, r := range batch {
		r.first = seq
		for i := range r.recs {
			lastOff = len(s.buf)
			if r.pos != nil {
				r.pos[i] = Position{Seq: seq, seg: segFirst, off: m.size + int64(lastOff)}
			}
			s.buf = appendFrame(s.buf, &r.recs[i], seq)
			seq++
		}
	}
	if _, err := s.active.WriteAt(s.buf, m.size); err != nil {
		s.fail(batch, fmt.Errorf("store: write: %w", err))
		return
	}
	nm := mark{gen: m.gen + 1, lastSeq: seq - 1, size: m.size + int64(len(s.buf)), lastOff: m.size + int64(lastOff)}
	if err := putMark(s.active, nm); err != nil {
		s.fail(batch, fmt.Errorf("store: write: %w", err))
		return
	}
	syncStart := time.Now()
	if err := atomicfile.SyncData(s.active); err != nil {
		s.fail(batch, fmt.Errorf("store: fsync: %w", err))
		return
	}
	if s.opts.OnCommit != nil {
		s.opts.OnCommit(CommitInfo{Records: int(seq - next), Bytes: len(s.buf), Sync: time.Since(syncStart)})
	}
	s.commits.Add(1)
	s.records.Add(uint64(seq - next))
	s.mu.Lock()
	s.mark = nm
	s.lastSeq = seq - 1
	c := &s.segs[len(s.segs)-1]
	c.size = nm.size
	c.lastSeq = seq - 1
	full := c.size >= s.opts.SegmentBytes
	if !full {
		s.kickPreparer(segFirst, nm.size) // prealloc.go
	}
	s.mu.Unlock()
	if cap(s.buf) > 2*s.opts.MaxBatchBytes {
		s.buf = nil // do not keep one huge batch's buffer forever
	}
	if full {
		// The batch is durable whatever happens here; a failed rotation
		// only stops later appends.
		if err := s.rotate(); err != nil {
			s.setFailed(fmt.Errorf("store: start new segment: %w", err))
		}
	}
}

// catchUp brings s's view of the log up to what other Stores on the same
// directory committed since s last did (following their rotations), and
// drops bytes after the acknowledged end that a writer who died in the
// middle of a commit left behind. The caller holds the directory's lock.
func (s *Store) catchUp() error {
	hi, same := s.unchanged() // unchanged.go
	if same {
		return nil
	}
	if hi == nil {
		hi, _ = os.Stat(s.headPath) // nil when it fails: the next commit reads HEAD again
	}
	s.noteHead(nil)
	h, err := readHeadFile(s.headPath)
	if err != nil {
		return err
	}
	s.mu.Lock()
	cur := s.segs[len(s.segs)-1]
	s.mu.Unlock()
	if h.activeFirst != cur.header.firstSeq {
		if err := s.followRotation(h); err != nil {
			return err
		}
	}
	fi, err := s.active.Stat()
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	m, _, err := loadMark(s.active, fi.Size(), s.opts.MaxRecordBytes)
	if err != nil {
		return err
	}
	// Zeros after the mark are preallocated space (prealloc.go); a frame
	// starting there is a dead writer's unacknowledged commit.
	clean, err := cleanSlack(s.active, m.size, fi.Size())
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	// The preparer's hint follows what is there: another writer may have
	// cut the zeros (one that does not know of them drops them as a
	// tail), and a dirty tail goes below with them.
	s.mu.Lock()
	s.prepEnd = min(s.prepEnd, fi.Size())
	if !clean {
		s.prepEnd = 0
	}
	s.mu.Unlock()
	switch {
	case fi.Size() < m.size:
		return corrupt(s.active.Name(), fi.Size(), "segment is %d bytes but %d were acknowledged: acknowledged records up to %d were lost", fi.Size(), m.size, m.lastSeq)
	case fi.Size() > m.size && !clean:
		if err := s.active.Truncate(m.size); err != nil {
			return fmt.Errorf("store: drop unacknowledged tail: %w", err)
		}
		if s.opts.Logf != nil {
			s.opts.Logf("store: %s: dropped %d unacknowledged bytes after offset %d", s.active.Name(), fi.Size()-m.size, m.size)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &s.segs[len(s.segs)-1]
	c.size, c.lastSeq = m.size, m.lastSeq
	s.lastSeq, s.head, s.mark = m.lastSeq, h, m
	s.noteHead(hi)
	return nil
}

// followRotation adds the segments other Stores started since s's active
// one, up to the one h names, and makes that one s's active segment.
func (s *Store) followRotation(h head) error {
	l, err := listDir(s.dir)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	s.mu.Lock()
	segs := append([]segment(nil), s.segs...)
	s.mu.Unlock()
	for _, name := range l.segments {
		first, _ := parseSeqName(name, "", segmentExt)
		if first <= segs[len(segs)-1].header.firstSeq || first > h.activeFirst {
			continue
		}
		path := filepath.Join(s.dir, name)
		hb, err := readAt(path, 0, segmentHeaderSize)
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		sh, err := decodeSegmentHeader(path, hb)
		if err != nil {
			return err
		}
		prev := &segs[len(segs)-1]
		if sh.prevFirstSeq != prev.header.firstSeq {
			return corrupt(path, 20, "previous segment should start at sequence number %d but the one found starts at %d (a segment is missing)", sh.prevFirstSeq, prev.header.firstSeq)
		}
		prev.size, prev.lastSeq = sh.prevSize, sh.firstSeq-1
		segs = append(segs, segment{path: path, header: sh, size: segmentDataStart, lastSeq: sh.firstSeq - 1})
	}
	if segs[len(segs)-1].header.firstSeq != h.activeFirst {
		return corrupt(filepath.Join(s.dir, segmentName(h.activeFirst)), 0, "segment is missing, yet HEAD says it holds the acknowledged end of the log")
	}
	f, err := os.OpenFile(segs[len(segs)-1].path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	old := s.active
	s.active = f
	s.mu.Lock()
	s.segs = segs
	s.mu.Unlock()
	return old.Close()
}

func (s *Store) fail(batch []*request, err error) {
	s.setFailed(err)
	for _, r := range batch {
		r.first, r.err = 0, err
	}
}

// setFailed stops appends with err; only the committer calls it.
func (s *Store) setFailed(err error) {
	s.failed = err
	s.failedPub.Store(&err)
}

// rotate seals the active segment and starts the next one; the caller
// holds the directory's lock. HEAD names the new segment only once it
// exists, so a crash in between leaves a segment with no acknowledged
// record, which the next Open removes.
func (s *Store) rotate() error {
	s.mu.Lock()
	cur := s.segs[len(s.segs)-1]
	hd := s.head
	s.mu.Unlock()
	h := segmentHeader{firstSeq: cur.lastSeq + 1, prevFirstSeq: cur.header.firstSeq, prevSize: cur.size}
	m := mark{gen: 1, lastSeq: cur.lastSeq, size: segmentDataStart}
	// The sealed segment must be exactly prevSize bytes: any
	// preallocated space after its end goes first (prealloc.go).
	if err := cutSlack(s.active, cur.size); err != nil {
		return err
	}
	path := filepath.Join(s.dir, segmentName(h.firstSeq))
	if err := atomicfile.Write(path, newSegmentBytes(h, m), 0o644); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	hd.gen++
	hd.activeFirst = h.firstSeq
	s.noteHead(nil) // the next commit reads the new HEAD once
	if err := writeHead(s.dir, hd); err != nil {
		f.Close()
		return err
	}
	old := s.active
	s.active = f
	s.mu.Lock()
	s.head, s.mark = hd, m
	s.segs = append(s.segs, segment{path: path, header: h, size: segmentDataStart, lastSeq: cur.lastSeq})
	s.mu.Unlock()
	return old.Close()
}
