// This file implements compaction: removing sealed segments that the
// latest snapshot makes unnecessary for recovery.

package store

import (
	"context"
	"fmt"
	"os"

	"github.com/knhk/knhk/internal/atomicfile"
)

// Compact removes sealed segments whose records all precede the latest
// snapshot and returns how many it removed. The active segment is never
// removed. Afterwards, scans from before the first remaining record fail
// with [ErrCompacted].
func (s *Store) Compact(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if s.readOnly {
		return 0, ErrReadOnly
	}
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	s.commitMu.Lock() // the directory's lock is per open file: see commitMu
	defer s.commitMu.Unlock()
	if err := lockEx(s.lockf); err != nil {
		return 0, fmt.Errorf("store: lock %s: %w", s.lockf.Name(), err)
	}
	defer unlock(s.lockf)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, ErrClosed
	}
	segs := append([]segment(nil), s.segs...)
	snap, has := s.snapSeq, s.hasSnap
	s.mu.Unlock()
	if !has {
		return 0, nil
	}
	n := 0
	for n+1 < len(segs) && segs[n+1].header.firstSeq <= snap+1 {
		n++
	}
	// Oldest first, so a crash part-way leaves a contiguous log.
	for i := range n {
		if err := os.Remove(segs[i].path); err != nil && !os.IsNotExist(err) {
			s.dropSegments(i)
			return i, fmt.Errorf("store: compact: %w", err)
		}
	}
	s.dropSegments(n)
	if n > 0 {
		if err := atomicfile.SyncDir(s.dir); err != nil {
			return n, fmt.Errorf("store: compact: %w", err)
		}
	}
	return n, nil
}

func (s *Store) dropSegments(n int) {
	s.mu.Lock()
	s.segs = append([]segment(nil), s.segs[n:]...)
	s.mu.Unlock()
}
