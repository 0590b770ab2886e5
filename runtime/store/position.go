// This file implements scanning from a remembered position: the byte
// offset of a record in its segment, so that a reader who indexed the log
// once can start at a record without reading the segment up to it.

package store

import (
	"context"
	"fmt"
	"io"
)

// Position locates a committed record: its sequence number, the segment
// holding it and the byte offset of its frame there. Only
// [Store.ScanPositions] makes them; the zero Position means the start of
// the log.
type Position struct {
	Seq Seq
	seg Seq // first sequence number of the segment
	off int64
}

// ScanPositions calls fn for each committed record from from on, in
// order, with its Position, and stops at the first error, which it
// returns. Records are checked as by [Store.Scan].
func (s *Store) ScanPositions(ctx context.Context, from Seq, fn func(Record, Position) error) error {
	return s.scanAt(ctx, Position{Seq: max(from, 1)}, fn)
}

// ScanFrom calls fn for each committed record from the one at p on,
// starting to read p's segment at p's offset. A p that no longer names
// the record it was made for (the segment was compacted away, or the
// bytes there are another record) is an error, never a silent skip.
func (s *Store) ScanFrom(ctx context.Context, p Position, fn func(Record) error) error {
	return s.scanAt(ctx, p, func(r Record, _ Position) error { return fn(r) })
}

// ScanViews calls fn for each committed record from the one at p on (the
// zero Position: from the start of the log), like [Store.ScanFrom], but
// with a [RecordView] that is valid only during the call: nothing is
// copied or allocated per record.
func (s *Store) ScanViews(ctx context.Context, p Position, fn func(RecordView, Position) error) error {
	return s.scanViewsAt(ctx, p, fn)
}

func (s *Store) scanAt(ctx context.Context, p Position, fn func(Record, Position) error) error {
	return s.scanViewsAt(ctx, p, func(v RecordView, p Position) error { return fn(v.Record(), p) })
}

func (s *Store) scanViewsAt(ctx context.Context, p Position, fn func(RecordView, Position) error) error {
	s.compactMu.RLock()
	defer s.compactMu.RUnlock()
	s.mu.Lock()
	closed, last := s.closed, s.lastSeq
	segs := append([]segment(nil), s.segs...)
	s.mu.Unlock()
	if closed {
		return ErrClosed
	}
	from := max(p.Seq, 1)
	if len(segs) == 0 || from > last {
		return nil // an empty read-only store, or nothing new
	}
	if from < segs[0].header.firstSeq {
		return fmt.Errorf("store: scan from %d, log starts at %d: %w", from, segs[0].header.firstSeq, ErrCompacted)
	}
	if from > last {
		return nil
	}
	i := -1
	if p.off > 0 {
		for j := range segs {
			if segs[j].header.firstSeq == p.seg {
				i = j
			}
		}
		if i < 0 {
			return fmt.Errorf("store: scan from record %d: its segment %d is gone: %w", p.Seq, p.seg, ErrCompacted)
		}
	} else {
		i = 0
		for j := range segs {
			if segs[j].header.firstSeq <= from {
				i = j
			}
		}
	}
	n := 0
	for k, seg := range segs[i:] {
		off, expect := int64(0), seg.header.firstSeq
		if k == 0 && p.off > 0 {
			off, expect = p.off, p.Seq
		}
		if err := s.scanSegmentAt(ctx, seg, off, expect, from, &n, fn); err != nil {
			return err
		}
	}
	return nil
}

// scanSegmentAt reads seg from byte offset off (0: after the header),
// whose record must have sequence number expect, and calls fn for each
// record from from on.
func (s *Store) scanSegmentAt(ctx context.Context, seg segment, off int64, expect, from Seq, n *int, fn func(RecordView, Position) error) error {
	fr, _, err := openFrameReader(seg.path, seg.size, s.opts.MaxRecordBytes)
	if err != nil {
		return err
	}
	defer fr.close()
	if off > 0 {
		if off < segmentDataStart || off >= seg.size {
			return corrupt(seg.path, off, "no record %d at this offset", expect)
		}
		if _, err := fr.f.Seek(off, io.SeekStart); err != nil {
			return err
		}
		fr.r.Reset(fr.f)
		fr.off = off
	}
	for {
		if *n++; *n%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		at := fr.off
		rec, err := fr.nextView()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if isFrameError(err) {
				err = corrupt(seg.path, at, "%v", err)
			}
			return err
		}
		if rec.Seq != expect {
			return corrupt(seg.path, at, "record has sequence number %d where %d was expected", rec.Seq, expect)
		}
		expect++
		if rec.Seq >= from {
			if rec, err = s.openView(rec); err != nil {
				return err
			}
			if err := fn(rec, Position{Seq: rec.Seq, seg: seg.header.firstSeq, off: at}); err != nil {
				return err
			}
		}
	}
}

// Place returns the segment (its first sequence number) and the byte
// offset of p's record, for a caller that keeps positions in its own
// files (knhk serve's recovery index) and rebuilds them with
// [PositionAt].
func (p Position) Place() (seg Seq, off int64) { return p.seg, p.off }

// PositionAt rebuilds the Position of record seq from [Position.Place]'s
// parts. A scan from a Position that does not name its record fails
// (the segment is gone, or another record is there); it never skips.
func PositionAt(seq, seg Seq, off int64) Position { return Position{Seq: seq, seg: seg, off: off} }
