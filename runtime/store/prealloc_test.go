// This file tests preallocation (prealloc.go): what a writer killed with
// zero-filled space after its acknowledged end leaves behind is read,
// checked and reopened as before, and neither that space nor a dead
// writer's frames in it are ever taken for records.

package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// preallocOpts keeps the segments small, so that rotation and the cap
// at Options.SegmentBytes are exercised too.
var preallocOpts = Options{SegmentBytes: 256 << 10, PreallocBytes: 64 << 10}

// waitPrepared waits until the active segment of s extends past its
// acknowledged end: the preparer has run.
func waitPrepared(t *testing.T, s *Store) {
	t.Helper()
	waitPreparedBytes(t, s, 1)
}

// waitPreparedBytes waits until the preparer has written at least n
// bytes after the acknowledged end of the active segment of s.
func waitPreparedBytes(t *testing.T, s *Store, n int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s.mu.Lock()
		path, ack := s.segs[len(s.segs)-1].path, s.mark.size
		s.mu.Unlock()
		if fi, err := os.Stat(path); err == nil && fi.Size() >= ack+n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the preparer wrote fewer than %d bytes of zeros after the acknowledged end in 20s", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// killedCopy copies the data directory of the open store s as a SIGKILL
// would leave it (no appends are in flight; the page cache is what a
// reopening process reads) and returns the copy, its active segment and
// that segment's acknowledged size.
func killedCopy(t *testing.T, s *Store) (dir, active string, ack int64) {
	t.Helper()
	dir = t.TempDir()
	s.commitMu.Lock() // no zeros being written either
	defer s.commitMu.Unlock()
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return dir, filepath.Join(dir, filepath.Base(s.segs[len(s.segs)-1].path)), s.mark.size
}

// appendN appends n records of varying size and returns the last
// sequence number.
func appendN(t *testing.T, s *Store, n int) Seq {
	t.Helper()
	var last Seq
	for i := range n {
		seq, err := s.Append(context.Background(), Record{CaseID: fmt.Sprintf("case-%d", i%5), Kind: "fire", Payload: bytes.Repeat([]byte{byte('a' + i%26)}, 20+i%90)})
		if err != nil {
			t.Fatal(err)
		}
		last = seq
	}
	return last
}

// dirBytes is every file of dir by name, to show that readers wrote
// nothing.
func dirBytes(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

// TestKilledWithPreallocatedSpace: a writer killed with zeros after its
// acknowledged end leaves a directory that fsck calls sound, that
// readers read without writing, and that a writer opens without a
// repair, appends to (over the zeros) and, when it closes, leaves with
// no slack.
func TestKilledWithPreallocatedSpace(t *testing.T) {
	s := mustOpen(t, t.TempDir(), preallocOpts)
	defer s.Close()
	last := appendN(t, s, 300)
	waitPrepared(t, s)
	dir, active, ack := killedCopy(t, s)
	if size(t, active) <= ack {
		t.Fatalf("the copy has no preallocated space: %d bytes, %d acknowledged", size(t, active), ack)
	}
	before := dirBytes(t, dir)

	rep, err := Check(context.Background(), dir, Options{})
	if err != nil || len(rep.Damage) > 0 {
		t.Fatalf("Check: %v, damage %v", err, rep.Damage)
	}
	if rep.LastSeq != last || rep.Acknowledged != last || rep.Unacknowledged != 0 || rep.Preallocated != size(t, active)-ack {
		t.Fatalf("Check = %+v, want last %d, no unacknowledged bytes and %d preallocated", rep, last, size(t, active)-ack)
	}
	ro, err := OpenReadOnly(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := collect(t, ro, 1); len(got) != int(last) {
		t.Fatalf("read-only scan: %d records, want %d", len(got), last)
	}
	ro.Close()
	if !maps.Equal(before, dirBytes(t, dir)) {
		t.Fatal("Check or a read-only open changed the directory")
	}

	var logged []string
	opts := preallocOpts
	opts.Logf = func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }
	w := mustOpen(t, dir, opts)
	if r := w.Report(); r.Repaired || len(logged) > 0 {
		t.Fatalf("preallocated space reported as a repair: %+v, %q", r, logged)
	}
	if got := collect(t, w, 1); len(got) != int(last) {
		t.Fatalf("%d records after reopening, want %d", len(got), last)
	}
	if seq := appendN(t, w, 1); seq != last+1 {
		t.Fatalf("append after reopening = %d, want %d", seq, last+1)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	m, err := readMarkFile(active, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if got := size(t, active); got != m.size || m.lastSeq != last+1 {
		t.Fatalf("after Close the segment is %d bytes, its mark %+v: want no slack", got, m)
	}
}

// TestZeroTailIsNoRepair: zeros after the acknowledged end are what
// preallocation leaves, so Open keeps them without reporting a repair,
// and the next append writes over them.
func TestZeroTailIsNoRepair(t *testing.T) {
	fx := newFixture(t, 60, 0)
	path := fx.segs[len(fx.segs)-1]
	acked := size(t, path)
	appendBytes(t, path, make([]byte, 4096))
	w := mustOpen(t, fx.dir, fx.opts)
	if r := w.Report(); r.Repaired || r.LastSeq != fx.last {
		t.Fatalf("report %+v", r)
	}
	if size(t, path) != acked+4096 {
		t.Fatal("Open dropped preallocated zeros")
	}
	if seq := appendN(t, w, 1); seq != fx.last+1 {
		t.Fatalf("append = %d, want %d", seq, fx.last+1)
	}
	w.Close()
	r := mustOpen(t, fx.dir, fx.opts)
	defer r.Close()
	if got := collect(t, r, 1); len(got) != int(fx.last)+1 {
		t.Fatalf("%d records, want %d", len(got), fx.last+1)
	}
}

// TestDeadWriterFramesInPreallocatedSpace: a writer that died in the
// middle of a commit left whole frames at the acknowledged end, over the
// zeros. The next commit must drop them rather than write its shorter
// batch over their start: otherwise a later recovery that extends an
// older mark over the frames that follow it (a damaged newer slot)
// would take the dead writer's records for acknowledged ones.
func TestDeadWriterFramesInPreallocatedSpace(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, preallocOpts)
	last := appendN(t, s, 50)
	waitPrepared(t, s)
	s.mu.Lock()
	path, ack := s.segs[len(s.segs)-1].path, s.mark.size
	s.mu.Unlock()
	r := Record{CaseID: "case-x", Kind: "fire", Payload: []byte("same size")}
	var dead []byte
	for i := range 3 {
		dead = appendFrame(dead, &r, last+1+Seq(i))
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(dead, ack); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if seq, err := s.Append(context.Background(), r); err != nil || seq != last+1 {
		t.Fatalf("append = %d, %v", seq, err)
	}
	s.mu.Lock()
	end := s.mark.size
	s.mu.Unlock()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := decodeFrame(b[end:], 1<<20); err == nil {
		t.Fatal("the dead writer's next frame is still right after the acknowledged end")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Damage the newer mark slot: Open extends the older one over the
	// whole records after it.
	m, err := readMarkFile(path, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	flipByte(t, path, m.slot()+30)
	w := mustOpen(t, dir, preallocOpts)
	defer w.Close()
	if got := w.LastSeq(); got != last+1 {
		t.Fatalf("log ends at %d after recovery, want %d: a dead writer's record was taken for an acknowledged one", got, last+1)
	}
}

// TestZeroedAcknowledgedFramesAreDamage: zeros only end a segment when
// nothing but zeros follows; acknowledged frames zeroed in the middle of
// a segment that has preallocated space are damage, reported by Check
// and by the scan that reaches them.
func TestZeroedAcknowledgedFramesAreDamage(t *testing.T) {
	s := mustOpen(t, t.TempDir(), preallocOpts)
	defer s.Close()
	appendN(t, s, 40)
	waitPrepared(t, s)
	dir, active, _ := killedCopy(t, s)
	b, err := os.ReadFile(active)
	if err != nil {
		t.Fatal(err)
	}
	_, n, err := decodeFrame(b[segmentDataStart:], 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	second := segmentDataStart + int64(n)
	copy(b[second:second+20], make([]byte, 20))
	if err := os.WriteFile(active, b, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Check(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Damage) == 0 || rep.Damage[0].File != active || rep.Damage[0].Offset != second {
		t.Fatalf("Check damage %v, want %s at %d", rep.Damage, active, second)
	}
	w, err := OpenReadOnly(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	err = w.Scan(context.Background(), 1, func(Record) error { return nil })
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.File != active || ce.Offset != second {
		t.Fatalf("scan: %v, want damage at %s:%d", err, active, second)
	}
}

// TestTornCommitInPreallocatedSpace: after a power loss a commit's later
// page may be on disk and its first lost, leaving zeros at the
// acknowledged end and a frame further on. Open reads the whole slack,
// finds the frame and drops the tail as a torn commit.
func TestTornCommitInPreallocatedSpace(t *testing.T) {
	s := mustOpen(t, t.TempDir(), preallocOpts)
	defer s.Close()
	last := appendN(t, s, 40)
	waitPreparedBytes(t, s, 8192)
	dir, active, ack := killedCopy(t, s)
	if size(t, active) < ack+8192 {
		t.Fatalf("only %d bytes prepared in the copy", size(t, active)-ack)
	}
	f, err := os.OpenFile(active, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	frame := appendFrame(nil, &Record{CaseID: "c", Kind: "k", Payload: []byte("later page")}, last+2)
	if _, err := f.WriteAt(frame, ack+4096); err != nil {
		t.Fatal(err)
	}
	f.Close()
	rep, err := Check(context.Background(), dir, Options{})
	if err != nil || len(rep.Damage) > 0 || rep.Unacknowledged == 0 {
		t.Fatalf("Check = %+v, %v: want no damage and unacknowledged bytes", rep, err)
	}
	w := mustOpen(t, dir, preallocOpts)
	defer w.Close()
	if r := w.Report(); !r.Repaired || r.TornOffset != ack || r.LastSeq != last {
		t.Fatalf("report %+v, want the tail after %d dropped", r, ack)
	}
	if size(t, active) != ack {
		t.Fatalf("segment is %d bytes after Open, want %d", size(t, active), ack)
	}
}

// TestTwoPreallocatingWriters: two Stores append to one directory at
// once, each preparing the segments it writes and both rotating them;
// every record lands once, and no sealed segment keeps zeros after its
// end (Check verifies each against the next one's header).
func TestTwoPreallocatingWriters(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentBytes: 8 << 10, PreallocBytes: 4 << 10}
	a := mustOpen(t, dir, opts)
	b := mustOpen(t, dir, opts)
	var wg sync.WaitGroup
	for _, s := range []*Store{a, b} {
		for g := range 4 {
			wg.Go(func() {
				for i := range 100 {
					if _, err := s.Append(context.Background(), rec(fmt.Sprintf("c%d", g), i)); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenReadOnly(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := collect(t, ro, 1); len(got) != 800 {
		t.Fatalf("%d records, want 800", len(got))
	}
	ro.Close()
	rep, err := Check(context.Background(), dir, Options{})
	if err != nil || len(rep.Damage) > 0 || rep.LastSeq != 800 || rep.Segments < 3 || rep.Preallocated != 0 || rep.Unacknowledged != 0 {
		t.Fatalf("Check = %+v, %v", rep, err)
	}
}

// TestZerosAfterASealedSegment: a sealed segment with zeros after the
// size its successor records (preallocated space that an older writer,
// which does not cut it, sealed) opens, checks and scans as before;
// any other byte there is still damage.
func TestZerosAfterASealedSegment(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tail   []byte
		damage bool
	}{
		{"zeros", make([]byte, 4096), false},
		{"zeros and a byte", append(make([]byte, 4095), 1), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t, 60, 0)
			sealed := fx.segs[len(fx.segs)-2]
			appendBytes(t, sealed, tc.tail)
			rep, err := Check(context.Background(), fx.dir, fx.opts)
			if err != nil {
				t.Fatal(err)
			}
			s, oerr := Open(fx.dir, fx.opts)
			if !tc.damage {
				if len(rep.Damage) > 0 || rep.LastSeq != fx.last {
					t.Fatalf("Check = %+v", rep)
				}
				if oerr != nil {
					t.Fatalf("Open: %v", oerr)
				}
				defer s.Close()
				if got := collect(t, s, 1); len(got) != int(fx.last) {
					t.Fatalf("%d records, want %d", len(got), fx.last)
				}
				return
			}
			var ce *CorruptError
			if !errors.As(oerr, &ce) || ce.File != sealed {
				t.Fatalf("Open: %v, want damage in %s", oerr, sealed)
			}
			if len(rep.Damage) == 0 || rep.Damage[0].File != sealed {
				t.Fatalf("Check damage %v, want damage in %s", rep.Damage, sealed)
			}
		})
	}
}

// TestZeroedEndOfASealedSegmentIsDamage: zeros where a sealed segment's
// last records should be are damage, reported where they start, not the
// end of the segment.
func TestZeroedEndOfASealedSegmentIsDamage(t *testing.T) {
	fx := newFixture(t, 60, 0)
	sealed := fx.segs[len(fx.segs)-2]
	var last Seq
	for seq, f := range fx.files {
		if f == sealed && seq > last {
			last = seq
		}
	}
	off := fx.offsets[last]
	b, err := os.ReadFile(sealed)
	if err != nil {
		t.Fatal(err)
	}
	copy(b[off:], make([]byte, len(b)-int(off)))
	if err := os.WriteFile(sealed, b, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Check(context.Background(), fx.dir, fx.opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Damage) == 0 || rep.Damage[0].File != sealed || rep.Damage[0].Offset != off {
		t.Fatalf("Check damage %v, want %s at %d", rep.Damage, sealed, off)
	}
}

// TestShortLivedStoreDoesNotPrepare: a store that makes fewer than
// preallocAfter commits (a short knhk run) writes no zeros at all.
func TestShortLivedStoreDoesNotPrepare(t *testing.T) {
	s := mustOpen(t, t.TempDir(), preallocOpts)
	defer s.Close()
	appendN(t, s, preallocAfter-2)
	s.commitMu.Lock() // a preparer step, had one been kicked, is done or not begun
	s.mu.Lock()
	path, ack, kicked := s.segs[len(s.segs)-1].path, s.mark.size, len(s.prepKick)
	s.mu.Unlock()
	s.commitMu.Unlock()
	if got := size(t, path); got != ack || kicked != 0 {
		t.Fatalf("after %d commits the segment is %d bytes for %d acknowledged (kick pending: %d)", preallocAfter-2, got, ack, kicked)
	}
}
