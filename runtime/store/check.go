// This file implements Check and Repair: reading the whole data
// directory for damage, and cutting the log back to its intact prefix when
// an operator accepts the loss.

package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/knhk/knhk/internal/atomicfile"
)

// CheckReport is what [Check] found.
type CheckReport struct {
	Segments int // log segments in the directory
	// Records is how many records form the intact prefix of the log, and
	// LastSeq the last of them.
	Records uint64
	LastSeq Seq
	// Acknowledged is the last record HEAD acknowledges (0 when HEAD is
	// missing or unreadable).
	Acknowledged Seq
	// Damage lists every problem with acknowledged data, snapshots and
	// HEAD, in the order found; empty means the directory is sound.
	Damage []*CorruptError
	// Unacknowledged counts bytes after the acknowledged end: the remains of
	// a commit that never returned, which the next writer drops.
	Unacknowledged int64
	// Preallocated counts zeros after the acknowledged end of the active
	// segment: space a writer prepared for its next commits (see
	// [Options.PreallocBytes]), which a clean Close gives back.
	Preallocated int64
}

// logWalk is the longest intact prefix of the log, read frame by frame.
type logWalk struct {
	segs    []segment // the segments of the prefix; the last may be cut short
	records uint64
	lastSeq Seq
	lastSeg Seq   // first sequence number of the segment of lastSeq
	lastOff int64 // offset of lastSeq's frame
	// cut is where the prefix ends early: the damage found there, nil when
	// every segment was read to its end. cutSeg indexes the segment it is
	// in; cutAt is the offset to truncate that segment to, or -1 when the
	// whole segment goes (its header is bad or does not follow on).
	cut    *CorruptError
	cutSeg int
	cutAt  int64
}

// walkLog reads every frame of every segment of dir, in order, and stops
// at the first damage.
func walkLog(ctx context.Context, dir string, l dirListing, maxBody int) (logWalk, error) {
	var w logWalk
	for i, name := range l.segments {
		path := filepath.Join(dir, name)
		fi, err := os.Stat(path)
		if err != nil {
			return w, fmt.Errorf("store: %w", err)
		}
		fr, h, err := openFrameReader(path, fi.Size(), maxBody)
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) {
				return w, fmt.Errorf("store: %w", err)
			}
			w.cut, w.cutSeg, w.cutAt = ce, i, -1
			return w, nil
		}
		if want, _ := parseSeqName(name, "", segmentExt); h.firstSeq != want {
			fr.close()
			w.cut, w.cutSeg, w.cutAt = corrupt(path, 12, "segment header says first sequence number %d but its name says %d", h.firstSeq, want), i, -1
			return w, nil
		}
		if i > 0 && h.firstSeq != w.lastSeq+1 {
			fr.close()
			w.cut, w.cutSeg, w.cutAt = corrupt(path, 12, "segment starts at sequence number %d but the log before it ends at %d (a segment is missing or cut short)", h.firstSeq, w.lastSeq), i, -1
			return w, nil
		}
		if i == 0 {
			w.lastSeq = h.firstSeq - 1
		}
		seg := segment{path: path, header: h, size: segmentDataStart, lastSeq: h.firstSeq - 1}
		// Zeros end a segment only where its records end: anywhere in
		// the last segment (the mark is checked against the walk
		// later), and in a sealed one only at the size the next
		// segment's header records for it.
		sealedEnd := int64(-1)
		if i+1 < len(l.segments) {
			next := filepath.Join(dir, l.segments[i+1])
			if hb, err := readAt(next, 0, segmentHeaderSize); err == nil {
				if nh, err := decodeSegmentHeader(next, hb); err == nil {
					sealedEnd = nh.prevSize
				}
			}
		}
		for {
			if err := ctx.Err(); err != nil {
				fr.close()
				return w, err
			}
			at := fr.off
			rec, err := fr.next()
			if err == io.EOF {
				break
			}
			if err != nil && isFrameError(err) && (i == len(l.segments)-1 || at == sealedEnd) {
				// Zeros from here to the end of the file are
				// preallocated space (prealloc.go), not a frame: a frame
				// never starts with a zero length.
				if zeros, zerr := zeroTail(path, at, fi.Size()); zerr != nil {
					fr.close()
					return w, fmt.Errorf("store: read %s: %w", path, zerr)
				} else if zeros {
					break
				}
			}
			if err == nil && rec.Seq != w.lastSeq+1 {
				err = fmt.Errorf("record has sequence number %d where %d was expected", rec.Seq, w.lastSeq+1)
			} else if err != nil && !isFrameError(err) {
				fr.close()
				return w, fmt.Errorf("store: read %s: %w", path, err)
			}
			if err != nil {
				fr.close()
				w.segs = append(w.segs, seg)
				w.cut, w.cutSeg, w.cutAt = corrupt(path, at, "%v", err), i, at
				return w, nil
			}
			w.records++
			w.lastSeq, w.lastSeg, w.lastOff = rec.Seq, h.firstSeq, at
			seg.size, seg.lastSeq = fr.off, rec.Seq
		}
		fr.close()
		w.segs = append(w.segs, seg)
	}
	return w, nil
}

// Check reads the whole data directory dir without modifying or locking
// anything and reports damage: every record checked, the chain of
// segments, the latest snapshot, and the log against HEAD, so that lost
// acknowledged records are found even when what is left is intact.
func Check(ctx context.Context, dir string, opts Options) (CheckReport, error) {
	opts = opts.withDefaults()
	var rep CheckReport
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return rep, fmt.Errorf("store: no data directory %s", dir)
	}
	l, err := listDir(dir)
	if err != nil {
		return rep, fmt.Errorf("store: %w", err)
	}
	rep.Segments = len(l.segments)
	if n := len(l.snapshots); n > 0 {
		name := l.snapshots[n-1]
		want, _ := parseSeqName(name, snapshotPrefix, snapshotExt)
		path := filepath.Join(dir, name)
		if b, err := os.ReadFile(path); err != nil {
			return rep, fmt.Errorf("store: %w", err)
		} else if _, err := decodeSnapshot(path, b, want); err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) {
				return rep, err
			}
			rep.Damage = append(rep.Damage, ce)
		}
	}
	w, err := walkLog(ctx, dir, l, opts.MaxRecordBytes)
	if err != nil {
		return rep, err
	}
	rep.Records, rep.LastSeq = w.records, w.lastSeq
	headPath := filepath.Join(dir, headName)
	h, herr := readHeadFile(headPath)
	switch {
	case errors.Is(herr, errNoHead):
		if len(l.segments) > 0 {
			rep.Damage = append(rep.Damage, corrupt(headPath, 0, "HEAD, which names the segment holding the acknowledged end of the log, is missing"))
		}
		if w.cut != nil {
			rep.Damage = append(rep.Damage, w.cut)
		}
		return rep, nil
	case herr != nil:
		var ce *CorruptError
		if !errors.As(herr, &ce) {
			return rep, herr
		}
		rep.Damage = append(rep.Damage, ce)
		if w.cut != nil {
			rep.Damage = append(rep.Damage, w.cut)
		}
		return rep, nil
	}
	active := filepath.Join(dir, segmentName(h.activeFirst))
	m, merr := readMarkFile(active, opts.MaxRecordBytes)
	if merr != nil {
		var ce *CorruptError
		if errors.As(merr, &ce) {
			rep.Damage = append(rep.Damage, ce)
		} else {
			rep.Damage = append(rep.Damage, corrupt(active, 0, "segment is missing, yet HEAD says it holds the acknowledged end of the log"))
		}
		if w.cut != nil {
			rep.Damage = append(rep.Damage, w.cut)
		}
		return rep, nil
	}
	rep.Acknowledged = m.lastSeq
	// Damage after the acknowledged end is an unfinished commit, not loss.
	unacked := func(seg Seq, off int64) bool {
		return seg > h.activeFirst || (seg == h.activeFirst && off >= m.size)
	}
	if w.cut != nil {
		cutFirst, _ := parseSeqName(l.segments[w.cutSeg], "", segmentExt)
		if !unacked(cutFirst, max(w.cutAt, 0)) {
			rep.Damage = append(rep.Damage, w.cut)
		}
	}
	if w.lastSeq < m.lastSeq {
		file, off := active, m.size
		if w.cut != nil {
			file, off = w.cut.File, max(w.cutAt, 0)
		} else if n := len(w.segs); n > 0 {
			file, off = w.segs[n-1].path, w.segs[n-1].size
		}
		rep.Damage = append(rep.Damage, corrupt(file, off, "acknowledged records %d to %d are lost (the log ends at %d)", w.lastSeq+1, m.lastSeq, w.lastSeq))
	}
	for _, name := range l.segments {
		first, _ := parseSeqName(name, "", segmentExt)
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		switch {
		case first > h.activeFirst && fi.Size() > segmentDataStart:
			rep.Damage = append(rep.Damage, corrupt(filepath.Join(dir, name), segmentDataStart, "segment holds records, yet HEAD names the earlier segment %s as the acknowledged end (HEAD is stale)", segmentName(h.activeFirst)))
		case first > h.activeFirst:
			rep.Unacknowledged += fi.Size()
		case first == h.activeFirst && fi.Size() > m.size:
			if zeros, err := zeroTail(filepath.Join(dir, name), m.size, fi.Size()); err == nil && zeros {
				rep.Preallocated += fi.Size() - m.size
			} else {
				rep.Unacknowledged += fi.Size() - m.size
			}
		}
	}
	return rep, nil
}

// RepairReport says what [Repair] did.
type RepairReport struct {
	// LastSeq is the last record kept; Lost is how many acknowledged
	// records were dropped (as far as HEAD tells).
	LastSeq Seq
	Lost    uint64
	// Actions lists what was done, one line each, as written to
	// DIR/repair.log.
	Actions []string
}

// RepairLog is the file in the data directory where [Repair] appends a
// line for every change it makes.
const RepairLog = "repair.log"

// Repair cuts the log of dir back to its longest intact prefix: it
// truncates the segment where the first damage is, removes the segments
// after it and snapshots ahead of it, and rewrites HEAD to acknowledge
// exactly what is left. It is for an operator who accepts losing what
// comes after the damage; every change is appended to DIR/repair.log and
// returned. It takes the directory's lock, so it waits for commits in
// flight; a process that keeps the directory open across Repair must be
// restarted.
func Repair(ctx context.Context, dir string, opts Options) (RepairReport, error) {
	opts = opts.withDefaults()
	var rep RepairReport
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return rep, fmt.Errorf("store: no data directory %s", dir)
	}
	lockf, err := openLock(filepath.Join(dir, lockName))
	if err != nil {
		return rep, fmt.Errorf("store: %w", err)
	}
	defer lockf.Close()
	if err := lockEx(lockf); err != nil {
		return rep, fmt.Errorf("store: lock %s: %w", lockf.Name(), err)
	}
	defer unlock(lockf)
	l, err := listDir(dir)
	if err != nil {
		return rep, fmt.Errorf("store: %w", err)
	}
	w, err := walkLog(ctx, dir, l, opts.MaxRecordBytes)
	if err != nil {
		return rep, err
	}
	oldHead, herr := readHeadFile(filepath.Join(dir, headName))
	var old mark
	oerr := herr
	if herr == nil {
		old, oerr = readMarkFile(filepath.Join(dir, segmentName(oldHead.activeFirst)), opts.MaxRecordBytes)
	}
	act := func(format string, args ...any) { rep.Actions = append(rep.Actions, fmt.Sprintf(format, args...)) }

	// Cut the log at the first damage.
	if w.cut != nil {
		act("damage: %v", w.cut)
		if w.cutAt >= 0 {
			path := w.segs[len(w.segs)-1].path
			if err := truncateSync(path, w.cutAt); err != nil {
				return rep, fmt.Errorf("store: %w", err)
			}
			act("truncated %s to %d bytes", path, w.cutAt)
		}
		first := w.cutSeg
		if w.cutAt >= 0 {
			first++
		}
		for _, name := range l.segments[first:] {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return rep, fmt.Errorf("store: %w", err)
			}
			act("removed %s", filepath.Join(dir, name))
		}
	}
	for _, name := range l.snapshots {
		if seq, _ := parseSeqName(name, snapshotPrefix, snapshotExt); seq > w.lastSeq {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return rep, fmt.Errorf("store: %w", err)
			}
			act("removed snapshot %s, which is ahead of the log", filepath.Join(dir, name))
		}
	}
	segs := w.segs
	if len(segs) == 0 {
		h := segmentHeader{firstSeq: 1}
		path := filepath.Join(dir, segmentName(1))
		if err := atomicfile.Write(path, newSegmentBytes(h, mark{gen: 1, size: segmentDataStart}), 0o644); err != nil {
			return rep, fmt.Errorf("store: %w", err)
		}
		segs = []segment{{path: path, header: h, size: segmentDataStart}}
		act("started an empty log in %s", path)
	}
	active := segs[len(segs)-1]
	m := mark{gen: 1, lastSeq: w.lastSeq, size: active.size}
	if w.lastSeg == active.header.firstSeq && w.records > 0 {
		m.lastOff = w.lastOff
	}
	if oerr == nil {
		m.gen = old.gen + 2 // newer than either slot
		if old.lastSeq > w.lastSeq {
			rep.Lost = uint64(old.lastSeq - w.lastSeq)
			act("lost acknowledged records %d to %d", w.lastSeq+1, old.lastSeq)
		}
	} else {
		act("the acknowledged end was unreadable (%v): rebuilt from the log", oerr)
	}
	cur, cerr := readMarkFile(active.path, opts.MaxRecordBytes)
	same := cur
	same.gen = m.gen
	if herr != nil || oldHead.activeFirst != active.header.firstSeq || cerr != nil || same != m {
		f, err := os.OpenFile(active.path, os.O_RDWR, 0)
		if err != nil {
			return rep, fmt.Errorf("store: %w", err)
		}
		for _, off := range []int64{markSlot0, markSlot1} {
			if _, err := f.WriteAt(m.encode(), off); err != nil {
				f.Close()
				return rep, fmt.Errorf("store: %w", err)
			}
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return rep, fmt.Errorf("store: %w", err)
		}
		f.Close()
		hd := head{gen: oldHead.gen + 1, activeFirst: active.header.firstSeq}
		if err := writeHead(dir, hd); err != nil {
			return rep, fmt.Errorf("store: write HEAD: %w", err)
		}
		act("the log now acknowledges records up to %d (%s, %d bytes)", m.lastSeq, active.path, m.size)
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return rep, fmt.Errorf("store: %w", err)
	}
	rep.LastSeq = w.lastSeq
	return rep, AppendRepairLog(dir, rep.Actions)
}

// AppendRepairLog appends lines, each stamped with the current time, to
// DIR/repair.log and syncs it; it does nothing for no lines. Repairs made
// above the store (such as removing files it does not own) log there too.
func AppendRepairLog(dir string, lines []string) error {
	if len(lines) == 0 {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(dir, RepairLog), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	stamp := time.Now().UTC().Format(time.RFC3339)
	for _, a := range lines {
		fmt.Fprintf(f, "%s %s\n", stamp, a)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("store: %w", err)
	}
	return f.Close()
}
