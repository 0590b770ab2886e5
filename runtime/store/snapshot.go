// This file implements snapshots: the engine's state as of one sequence
// number, written atomically so recovery replays only the records after it.

package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"

	"github.com/knhk/knhk/internal/atomicfile"
)

const (
	snapshotMagic      = "KNHKSNP\n"
	snapshotVersion    = 1
	snapshotHeaderSize = 36
	snapshotPrefix     = "snap-"
	snapshotExt        = ".snap"
)

// Snapshot is engine state covering every record up to and including Seq.
type Snapshot struct {
	Seq   Seq
	State []byte
}

func snapshotName(seq Seq) string {
	return fmt.Sprintf("%s%020d%s", snapshotPrefix, uint64(seq), snapshotExt)
}

func encodeSnapshot(seq Seq, state []byte) []byte {
	b := make([]byte, snapshotHeaderSize, snapshotHeaderSize+len(state))
	copy(b, snapshotMagic)
	binary.LittleEndian.PutUint32(b[8:], snapshotVersion)
	binary.LittleEndian.PutUint64(b[12:], uint64(seq))
	binary.LittleEndian.PutUint64(b[20:], uint64(len(state)))
	binary.LittleEndian.PutUint32(b[28:], crc32.Checksum(state, castagnoli))
	binary.LittleEndian.PutUint32(b[32:], crc32.Checksum(b[:32], castagnoli))
	return append(b, state...)
}

// decodeSnapshot validates a whole snapshot file; want is the sequence
// number its name promises.
func decodeSnapshot(path string, b []byte, want Seq) (Snapshot, error) {
	if len(b) < snapshotHeaderSize {
		return Snapshot{}, corrupt(path, int64(len(b)), "snapshot header truncated: %d of %d bytes", len(b), snapshotHeaderSize)
	}
	if string(b[:8]) != snapshotMagic {
		return Snapshot{}, corrupt(path, 0, "not a snapshot (bad magic)")
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != snapshotVersion {
		return Snapshot{}, corrupt(path, 8, "unknown snapshot version %d (this engine reads version %d)", v, snapshotVersion)
	}
	if crc32.Checksum(b[:32], castagnoli) != binary.LittleEndian.Uint32(b[32:]) {
		return Snapshot{}, corrupt(path, 32, "snapshot header checksum mismatch")
	}
	seq := Seq(binary.LittleEndian.Uint64(b[12:]))
	if seq != want {
		return Snapshot{}, corrupt(path, 12, "snapshot holds sequence number %d but its name says %d", seq, want)
	}
	n := binary.LittleEndian.Uint64(b[20:])
	if have := uint64(len(b) - snapshotHeaderSize); n != have {
		return Snapshot{}, corrupt(path, int64(len(b)), "snapshot state is %d bytes, header says %d", have, n)
	}
	state := b[snapshotHeaderSize:]
	if crc32.Checksum(state, castagnoli) != binary.LittleEndian.Uint32(b[28:]) {
		return Snapshot{}, corrupt(path, snapshotHeaderSize, "snapshot state checksum mismatch")
	}
	return Snapshot{Seq: seq, State: state}, nil
}

// WriteSnapshot durably stores state as the engine state after record seq
// and then removes older snapshots. seq must be committed and not older
// than the latest snapshot. The write is atomic: after a crash, either the
// new snapshot is complete or the previous one is still the latest.
func (s *Store) WriteSnapshot(ctx context.Context, seq Seq, state []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.readOnly {
		return ErrReadOnly
	}
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	if err := lockEx(s.lockf); err != nil {
		return fmt.Errorf("store: lock %s: %w", s.lockf.Name(), err)
	}
	defer unlock(s.lockf)
	s.mu.Lock()
	closed, last, prev := s.closed, s.lastSeq, s.snapSeq
	hasPrev := s.hasSnap
	s.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if seq > last {
		return fmt.Errorf("store: snapshot at sequence number %d is ahead of the log (last committed %d)", seq, last)
	}
	if hasPrev && seq < prev {
		return fmt.Errorf("store: snapshot at sequence number %d is older than the latest snapshot at %d", seq, prev)
	}
	name := snapshotName(seq)
	if err := atomicfile.Write(filepath.Join(s.dir, name), encodeSnapshot(seq, state), 0o644); err != nil {
		return fmt.Errorf("store: write snapshot: %w", err)
	}
	s.mu.Lock()
	s.snapSeq, s.hasSnap = seq, true
	s.mu.Unlock()
	if hasPrev && prev != seq {
		if err := os.Remove(filepath.Join(s.dir, snapshotName(prev))); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("store: remove old snapshot: %w", err)
		}
	}
	return nil
}

// LatestSnapshot reads and verifies the latest snapshot; ok is false when
// none has been written.
func (s *Store) LatestSnapshot(ctx context.Context) (snap Snapshot, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return Snapshot{}, false, err
	}
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	s.mu.Lock()
	closed, seq, has := s.closed, s.snapSeq, s.hasSnap
	s.mu.Unlock()
	if closed {
		return Snapshot{}, false, ErrClosed
	}
	if !has {
		return Snapshot{}, false, nil
	}
	path := filepath.Join(s.dir, snapshotName(seq))
	b, err := os.ReadFile(path)
	if err != nil {
		return Snapshot{}, false, fmt.Errorf("store: read snapshot: %w", err)
	}
	snap, err = decodeSnapshot(path, b, seq)
	if err != nil {
		return Snapshot{}, false, err
	}
	return snap, true, nil
}
