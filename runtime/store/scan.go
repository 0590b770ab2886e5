// This file implements replay: reading committed records in order.

package store

import (
	"context"
	"fmt"
	"io"
	"iter"
)

// Records returns an iterator over the committed records with sequence
// number from and up, in order, as of the call; records committed while it
// runs are not included. Every record is checked again (checksum and
// sequence number), so damage that appeared after Open is reported as a
// [*CorruptError]. After an error the iterator stops. The loop body must
// not call [Store.Compact].
func (s *Store) Records(ctx context.Context, from Seq) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		s.compactMu.RLock()
		defer s.compactMu.RUnlock()
		s.mu.Lock()
		closed, last := s.closed, s.lastSeq
		segs := append([]segment(nil), s.segs...)
		s.mu.Unlock()
		if closed {
			yield(Record{}, ErrClosed)
			return
		}
		from = max(from, 1)
		if len(segs) == 0 || from > last {
			return // an empty read-only store
		}
		if from < segs[0].header.firstSeq {
			yield(Record{}, fmt.Errorf("store: scan from %d, log starts at %d: %w", from, segs[0].header.firstSeq, ErrCompacted))
			return
		}
		if from > last {
			return
		}
		i := 0
		for j := range segs {
			if segs[j].header.firstSeq <= from {
				i = j
			}
		}
		n := 0
		for _, seg := range segs[i:] {
			if !s.scanSegment(ctx, seg, from, &n, yield) {
				return
			}
		}
	}
}

// scanSegment yields the records of seg from from on; it returns false
// when the iteration must stop.
func (s *Store) scanSegment(ctx context.Context, seg segment, from Seq, n *int, yield func(Record, error) bool) bool {
	fr, _, err := openFrameReader(seg.path, seg.size, s.opts.MaxRecordBytes)
	if err != nil {
		yield(Record{}, err)
		return false
	}
	defer fr.close()
	expect := seg.header.firstSeq
	for {
		if *n++; *n%256 == 0 {
			if err := ctx.Err(); err != nil {
				yield(Record{}, err)
				return false
			}
		}
		off := fr.off
		rec, err := fr.next()
		if err == io.EOF {
			return true
		}
		if err != nil {
			if isFrameError(err) {
				err = corrupt(seg.path, off, "%v", err)
			}
			yield(Record{}, err)
			return false
		}
		if rec.Seq != expect {
			yield(Record{}, corrupt(seg.path, off, "record has sequence number %d where %d was expected", rec.Seq, expect))
			return false
		}
		expect++
		if rec.Seq >= from {
			if rec, err = s.openRecord(rec); err != nil {
				yield(Record{}, err)
				return false
			}
			if !yield(rec, nil) {
				return false
			}
		}
	}
}

// Scan calls fn for each committed record from from on, in order, and
// stops at the first error, which it returns.
func (s *Store) Scan(ctx context.Context, from Seq, fn func(Record) error) error {
	for rec, err := range s.Records(ctx, from) {
		if err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}
