// This file implements preallocation: a background goroutine keeps the
// active segment written with zeros, and synced, ahead of the
// acknowledged end, so that a commit overwrites blocks the file system
// has already allocated and sized and its fdatasync flushes data only.
//
// Appending to a file makes each fdatasync also commit the file system's
// journal for the new size and blocks (ext4: 108–200 µs a commit on the
// test disk, against 75–110 µs for an overwrite). fallocate(2) is not
// enough: ext4's unwritten extents still change metadata when first
// written, so the zeros are really written and synced beforehand.
//
// What a reader or recovery sees does not change: the mark, not the file
// size, says where the acknowledged records end, and bytes after it were
// never part of the log. The zeros after the mark ("slack") are told
// apart from a dead writer's unacknowledged frames by their content: a
// frame starts with its length, which is never zero, and a writer always
// writes from the mark on, in order, so leftovers of a commit that never
// returned start with a non-zero byte at the mark. A commit that finds
// one there drops the tail as before (catchUp); Open and Check, which
// also run after a power loss that may have kept later pages and lost
// the first, read the whole slack. Sealed segments and a cleanly closed
// store keep no slack: rotate and Close cut it off, so a directory at
// rest looks exactly as without preallocation.
//
// Safety against other writers: zeros are only ever written beyond the
// end of the file, under the directory's lock and after checking that
// HEAD still names the segment, so they can never land on a frame, nor
// on a segment another writer sealed.

package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// defaultPreallocBytes is how far ahead of the acknowledged end the
// active segment is kept zero-filled unless Options says otherwise: at
// a few hundred bytes a commit, thousands of commits between fills.
const defaultPreallocBytes = 1 << 20

// preallocChunk bounds one write of zeros, and so how long a commit can
// wait for the preparer to release the directory's lock and how much a
// commit's fdatasync may have to flush along if it comes before the
// preparer's own sync.
const preallocChunk = 256 << 10

// preallocAfter is how many commits a Store makes before it starts
// preparing: a short-lived one (a knhk run of a few steps) would pay
// for a megabyte of zeros, their syncs and the cut at Close, and gain
// little, while a server passes it in its first cases.
const preallocAfter = 32

// zeroChunk is what the preparer writes; it is never modified.
var zeroChunk = make([]byte, preallocChunk)

// startPreparer starts the goroutine that zero-fills ahead of the
// acknowledged end; commits kick it (kickPreparer) when the prepared
// stretch runs low.
func (s *Store) startPreparer() {
	if s.opts.PreallocBytes <= 0 {
		return
	}
	s.prepKick = make(chan struct{}, 1)
	s.prepStop = make(chan struct{})
	s.prepDone = make(chan struct{})
	go s.prepareLoop()
}

// stopPreparer stops the preparer and waits for it; the committer must
// have stopped already.
func (s *Store) stopPreparer() {
	if s.prepStop == nil {
		return
	}
	close(s.prepStop)
	<-s.prepDone
}

// kickPreparer wakes the preparer when less than half of
// Options.PreallocBytes is prepared after end, the new acknowledged end
// of segment seg, once s has made preallocAfter commits. The caller
// holds s.mu. It never blocks.
func (s *Store) kickPreparer(seg Seq, end int64) {
	if s.prepKick == nil || s.commits.Load() < preallocAfter {
		return
	}
	if s.prepSeg == seg && (s.prepEnd-end >= s.opts.PreallocBytes/2 || s.prepEnd >= s.opts.SegmentBytes) {
		return
	}
	select {
	case s.prepKick <- struct{}{}:
	default:
	}
}

func (s *Store) prepareLoop() {
	defer close(s.prepDone)
	for {
		select {
		case <-s.prepStop:
			return
		case <-s.prepKick:
		}
		for s.prepareStep() {
			select {
			case <-s.prepStop:
				return
			default:
			}
		}
	}
}

// givenUp is the prepared end recorded for a segment whose preparation
// failed (a full disk, say): commits stop kicking the preparer for it
// and grow the file themselves, and a write that fails for them fails as
// before.
const givenUp = int64(1) << 62

// prepareStep writes and syncs one chunk of zeros at the end of the
// active segment and reports whether more is wanted.
func (s *Store) prepareStep() bool {
	if s.failedPub.Load() != nil {
		return false
	}
	s.commitMu.Lock()
	f, seg, end, wrote := s.extendActive()
	s.commitMu.Unlock()
	if f == nil {
		return false
	}
	// The sync runs without the locks: a commit meanwhile only pays what
	// an append paid without preallocation. A rotation may close f under
	// it, which os.File makes safe (the sync then fails).
	if wrote && f.Sync() != nil {
		end, wrote = givenUp, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.segs[len(s.segs)-1].header.firstSeq != seg {
		return true // rotated meanwhile: prepare the new segment
	}
	s.prepSeg, s.prepEnd = seg, end
	return wrote && end < min(s.mark.size+s.opts.PreallocBytes, s.opts.SegmentBytes)
}

// extendActive writes one chunk of zeros after the end of the active
// segment under the directory's lock, if HEAD still names the segment
// and it ends short of Options.PreallocBytes after the acknowledged end
// (and of Options.SegmentBytes, where it is sealed). It returns the
// file, its segment, how far it is prepared and whether it wrote; a nil
// file when it could not tell. The caller holds s.commitMu.
func (s *Store) extendActive() (f *os.File, seg Seq, end int64, wrote bool) {
	if s.active == nil {
		return nil, 0, 0, false
	}
	if err := lockEx(s.lockf); err != nil {
		return nil, 0, 0, false
	}
	defer unlock(s.lockf)
	seg, ok := s.headNamesActive()
	if !ok {
		return nil, 0, 0, false
	}
	s.mu.Lock()
	ack := s.mark.size
	s.mu.Unlock()
	fi, err := s.active.Stat()
	if err != nil || fi.Size() < ack {
		return nil, 0, 0, false // the next commit reports the loss
	}
	end = fi.Size()
	want := min(ack+s.opts.PreallocBytes, s.opts.SegmentBytes)
	if end >= want {
		return s.active, seg, end, false
	}
	n := min(want-end, preallocChunk)
	if _, err := s.active.WriteAt(zeroChunk[:n], end); err != nil {
		return s.active, seg, givenUp, false
	}
	return s.active, seg, end + n, true
}

// headNamesActive returns the first sequence number of s's active
// segment and whether HEAD still names it: another writer may have
// sealed it since s last committed, and its size is then final. The
// caller holds the directory's lock.
func (s *Store) headNamesActive() (Seq, bool) {
	s.mu.Lock()
	seg := s.segs[len(s.segs)-1].header.firstSeq
	s.mu.Unlock()
	h, err := readHeadFile(s.headPath)
	return seg, err == nil && h.activeFirst == seg
}

// cleanSlack reports whether the bytes of f from ack (the acknowledged
// end) to size hold no frame a writer started: the first frame header
// there is all zeros. A writer writes its frames in order from the mark,
// so after a process died mid-commit its frames start there; zeros there
// mean preallocated space (or a write that got no further than zeros).
func cleanSlack(f io.ReaderAt, ack, size int64) (bool, error) {
	if size <= ack {
		return true, nil
	}
	hdr := make([]byte, frameHeaderSize)
	n, err := f.ReadAt(hdr[:min(int64(len(hdr)), size-ack)], ack)
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	return allZero(hdr[:n]), nil
}

// zeroTail reports whether the bytes of the file at path from off to
// size are all zeros: preallocated space and nothing else. Unlike
// cleanSlack it reads all of them, for recovery after a power loss,
// which may keep a commit's later pages and lose its first.
func zeroTail(path string, off, size int64) (bool, error) {
	if size <= off {
		return true, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	buf := make([]byte, min(size-off, 64<<10))
	for off < size {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		if !allZero(buf[:n]) {
			return false, nil
		}
		off += int64(n)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return true, nil // shrank under us: what was there was zeros
			}
			return false, err
		}
	}
	return true, nil
}

func allZero(b []byte) bool {
	for len(b) > 0 {
		n := min(len(b), len(zeroChunk))
		if !bytes.Equal(b[:n], zeroChunk[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}

// cutSlack truncates the segment open as f to size, its final or
// acknowledged size, if it is longer, and syncs the cut: a sealed
// segment must be exactly the size the next segment's header records.
func cutSlack(f *os.File, size int64) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() <= size {
		return nil
	}
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("cut preallocated space: %w", err)
	}
	return f.Sync()
}

// trimOnClose cuts the active segment's slack when the store closes, so
// that a directory at rest has none. Another writer may have committed
// or rotated since s's last commit, so the mark is read again, under the
// directory's lock, and nothing is done unless HEAD still names the
// segment. Failing to trim loses nothing: slack is valid on disk.
func (s *Store) trimOnClose() {
	if s.readOnly || s.active == nil || s.opts.PreallocBytes <= 0 {
		return
	}
	if err := lockEx(s.lockf); err != nil {
		return
	}
	defer unlock(s.lockf)
	if _, ok := s.headNamesActive(); !ok {
		return
	}
	fi, err := s.active.Stat()
	if err != nil {
		return
	}
	m, _, err := loadMark(s.active, fi.Size(), s.opts.MaxRecordBytes)
	if err != nil || fi.Size() <= m.size {
		return
	}
	if ok, err := zeroTail(s.active.Name(), m.size, fi.Size()); err != nil || !ok {
		return // a dead writer's tail: the next writer drops it and says so
	}
	_ = cutSlack(s.active, m.size)
}
