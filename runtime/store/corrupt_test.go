// This file tests that Open repairs a torn tail and refuses every other
// kind of damage, naming the file and offset and modifying nothing.

package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture is a closed data directory with known records in known places.
type fixture struct {
	dir     string
	opts    Options
	segs    []string // segment paths, oldest first
	offsets map[Seq]int64
	files   map[Seq]string
	last    Seq
}

// newFixture writes n records of varying size across several small
// segments, then closes the store.
func newFixture(t *testing.T, n int, snapAt Seq) *fixture {
	t.Helper()
	ctx := context.Background()
	fx := &fixture{dir: t.TempDir(), opts: Options{SegmentBytes: segmentDataStart + 600}, offsets: map[Seq]int64{}, files: map[Seq]string{}}
	s := mustOpen(t, fx.dir, fx.opts)
	for i := range n {
		r := Record{CaseID: fmt.Sprintf("case-%d", i%3), Kind: "fire", Payload: bytes.Repeat([]byte{byte('a' + i%26)}, 10+i%40)}
		if _, err := s.Append(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if snapAt > 0 {
		if err := s.WriteSnapshot(ctx, snapAt, []byte("snapshot state")); err != nil {
			t.Fatal(err)
		}
	}
	fx.last = s.LastSeq()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	l, err := listDir(fx.dir)
	if err != nil {
		t.Fatal(err)
	}
	// Locate every frame independently of the store, by walking the files.
	for _, name := range l.segments {
		path := filepath.Join(fx.dir, name)
		fx.segs = append(fx.segs, path)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		off := segmentDataStart
		for off < len(b) {
			r, size, err := decodeFrame(b[off:], 1<<20)
			if err != nil {
				t.Fatalf("fixture %s at %d: %v", path, off, err)
			}
			fx.offsets[r.Seq], fx.files[r.Seq] = int64(off), path
			off += size
		}
	}
	if len(fx.segs) < 3 {
		t.Fatalf("fixture has %d segments, want at least 3", len(fx.segs))
	}
	if fx.files[fx.last] != fx.segs[len(fx.segs)-1] {
		t.Fatalf("fixture's last segment holds no record")
	}
	return fx
}

// dirState reads every file of the directory.
func dirState(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = b
	}
	return m
}

// mustRefuse opens dir, expects a CorruptError naming file and offset, and
// checks that no file changed.
func mustRefuse(t *testing.T, fx *fixture, file string, off int64, reason string) {
	t.Helper()
	before := dirState(t, fx.dir)
	s, err := Open(fx.dir, fx.opts)
	if err == nil {
		s.Close()
		t.Fatalf("Open succeeded on a corrupt directory")
	}
	var ce *CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("Open error %v is not a *CorruptError", err)
	}
	if ce.File != file || ce.Offset != off {
		t.Fatalf("error names %s at %d, want %s at %d (%v)", ce.File, ce.Offset, file, off, err)
	}
	msg := err.Error()
	if !strings.Contains(msg, file) || !strings.Contains(msg, fmt.Sprintf("offset %d", off)) || !strings.Contains(msg, reason) {
		t.Fatalf("message %q lacks file, offset %d or %q", msg, off, reason)
	}
	after := dirState(t, fx.dir)
	if len(after) != len(before) {
		t.Fatalf("failed Open changed the file list: %d -> %d files", len(before), len(after))
	}
	for name, b := range before {
		if !bytes.Equal(after[name], b) {
			t.Fatalf("failed Open modified %s", name)
		}
	}
}

// mustReport checks damage that Open does not look for (it reads no
// record but the last acknowledged one): Check and the first scan over it
// must both name file and offset, and neither may modify anything.
func mustReport(t *testing.T, fx *fixture, file string, off int64, reason string) {
	t.Helper()
	before := dirState(t, fx.dir)
	rep, err := Check(context.Background(), fx.dir, fx.opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Damage) == 0 || rep.Damage[0].File != file || rep.Damage[0].Offset != off || !strings.Contains(rep.Damage[0].Reason, reason) {
		t.Fatalf("Check found %v, want %q at %s:%d", rep.Damage, reason, file, off)
	}
	s, err := OpenReadOnly(fx.dir, fx.opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Scan(context.Background(), 1, func(Record) error { return nil })
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.File != file || ce.Offset != off {
		t.Fatalf("Scan error %v, want damage at %s:%d", err, file, off)
	}
	after := dirState(t, fx.dir)
	for name, b := range before {
		if !bytes.Equal(after[name], b) {
			t.Fatalf("Check or a read-only scan modified %s", name)
		}
	}
	if len(after) != len(before) {
		t.Fatal("Check or a read-only scan changed the file list")
	}
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0x5a
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func truncateTo(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func size(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// appendBytes appends b to path, as a commit that wrote its frames and
// died before HEAD acknowledged them would.
func appendBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func TestUnacknowledgedTailIsDropped(t *testing.T) {
	for _, tc := range []struct {
		name string
		tail func(fx *fixture) []byte
	}{
		{"partial frame", func(fx *fixture) []byte {
			return appendFrame(nil, &Record{CaseID: "c", Kind: "k", Payload: []byte("xyz")}, fx.last+1)[:5]
		}},
		{"whole frames never acknowledged", func(fx *fixture) []byte {
			b := appendFrame(nil, &Record{CaseID: "c", Kind: "k", Payload: []byte("xyz")}, fx.last+1)
			return appendFrame(b, &Record{CaseID: "c", Kind: "k", Payload: []byte("uvw")}, fx.last+2)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t, 60, 0)
			path := fx.segs[len(fx.segs)-1]
			acked := size(t, path)
			tail := tc.tail(fx)
			appendBytes(t, path, tail)
			var logged []string
			opts := fx.opts
			opts.Logf = func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }
			s := mustOpen(t, fx.dir, opts)
			r := s.Report()
			if !r.Repaired || r.TornFile != path || r.TornOffset != acked || r.TornBytes != int64(len(tail)) || r.LastSeq != fx.last {
				t.Fatalf("report %+v, want %d bytes dropped from %s at %d", r, len(tail), path, acked)
			}
			if len(logged) != 1 || !strings.Contains(logged[0], path) {
				t.Fatalf("log lines %q", logged)
			}
			if got := len(collect(t, s, 1)); got != int(fx.last) {
				t.Fatalf("%d records after Open, want %d", got, fx.last)
			}
			if seq, err := s.Append(context.Background(), rec("c", 0)); err != nil || seq != fx.last+1 {
				t.Fatalf("append after repair = %d, %v", seq, err)
			}
			s.Close()
			s = mustOpen(t, fx.dir, fx.opts)
			defer s.Close()
			if s.Report().Repaired {
				t.Fatal("second Open repaired again")
			}
		})
	}
}

// TestAcknowledgedLossIsRefused damages the end of the log, which Open
// used to "repair" silently, turning completed cases back into running
// ones: every such loss of acknowledged records is now refused, with file
// and offset, by Open, OpenReadOnly and Check alike.
func TestAcknowledgedLossIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, fx *fixture) (file string, off int64)
		reason string
	}{
		{"last segment deleted", func(t *testing.T, fx *fixture) (string, int64) {
			last := fx.segs[len(fx.segs)-1]
			if err := os.Remove(last); err != nil {
				t.Fatal(err)
			}
			return last, 0
		}, "segment is missing"},
		{"last segment truncated mid-record", func(t *testing.T, fx *fixture) (string, int64) {
			last := fx.segs[len(fx.segs)-1]
			truncateTo(t, last, fx.offsets[fx.last-1]+7)
			return last, fx.offsets[fx.last-1] + 7
		}, "acknowledged records up to"},
		{"last segment cut at a record boundary", func(t *testing.T, fx *fixture) (string, int64) {
			last := fx.segs[len(fx.segs)-1]
			truncateTo(t, last, fx.offsets[fx.last])
			return last, fx.offsets[fx.last]
		}, "acknowledged records up to"},
		{"bit flip in the last record", func(t *testing.T, fx *fixture) (string, int64) {
			last := fx.segs[len(fx.segs)-1]
			flipByte(t, last, size(t, last)-1)
			return last, fx.offsets[fx.last]
		}, "last acknowledged record"},
		{"HEAD deleted", func(t *testing.T, fx *fixture) (string, int64) {
			path := filepath.Join(fx.dir, headName)
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			return path, 0
		}, "HEAD"},
		{"both mark slots damaged", func(t *testing.T, fx *fixture) (string, int64) {
			last := fx.segs[len(fx.segs)-1]
			flipByte(t, last, markSlot0+20)
			flipByte(t, last, markSlot1+20)
			return last, markSlot0
		}, "both copies"},
		{"HEAD names a segment before the last", func(t *testing.T, fx *fixture) (string, int64) {
			first, _ := parseSeqName(filepath.Base(fx.segs[0]), "", segmentExt)
			if err := writeHead(fx.dir, head{gen: 9, activeFirst: first}); err != nil {
				t.Fatal(err)
			}
			return fx.segs[1], segmentDataStart
		}, "HEAD is stale"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t, 60, 0)
			file, off := tc.damage(t, fx)
			mustRefuse(t, fx, file, off, tc.reason)
			if _, err := OpenReadOnly(fx.dir, fx.opts); err == nil {
				t.Fatal("OpenReadOnly accepted the damaged directory")
			}
			rep, err := Check(context.Background(), fx.dir, fx.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Damage) == 0 {
				t.Fatalf("Check found no damage: %+v", rep)
			}
		})
	}
}

// TestOneTornMarkSlotIsSurvived: a crash in the middle of writing a mark
// slot, or rot in it, leaves the other slot, one commit older.
func TestOneTornMarkSlotIsSurvived(t *testing.T) {
	fx := newFixture(t, 60, 0)
	last := fx.segs[len(fx.segs)-1]
	m, err := readMarkFile(last, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	flipByte(t, last, m.slot()+20)
	s, err := Open(fx.dir, fx.opts)
	if err != nil {
		t.Fatalf("Open with one torn mark slot: %v", err)
	}
	defer s.Close()
	// The older slot acknowledges all but the last batch. A torn write and
	// a rotted slot look alike, so the whole records after it are kept,
	// never dropped, and the slot is rewritten.
	if got := s.LastSeq(); got != fx.last {
		t.Fatalf("LastSeq = %d, want %d", got, fx.last)
	}
	if _, complete, err := readMark(s.active, last); err != nil || !complete {
		t.Fatalf("mark after Open: complete %v, %v", complete, err)
	}
	if got := len(collect(t, s, 1)); got != int(fx.last) {
		t.Fatalf("%d records, want %d", got, fx.last)
	}
}

func TestRepairAcceptsTheLoss(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, 60, 0)
	last := fx.segs[len(fx.segs)-1]
	victim := fx.last - 2
	flipByte(t, last, fx.offsets[victim]+12)
	before, err := Check(ctx, fx.dir, fx.opts)
	if err != nil || len(before.Damage) == 0 || before.Damage[0].File != last || before.Damage[0].Offset != fx.offsets[victim] {
		t.Fatalf("Check before repair: %+v, %v", before, err)
	}
	rep, err := Repair(ctx, fx.dir, fx.opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.LastSeq != victim-1 || rep.Lost != 3 {
		t.Fatalf("repair %+v, want the log cut to %d with 3 records lost", rep, victim-1)
	}
	logged, err := os.ReadFile(filepath.Join(fx.dir, RepairLog))
	if err != nil || !strings.Contains(string(logged), "lost acknowledged records") || !strings.Contains(string(logged), last) {
		t.Fatalf("repair.log: %q, %v", logged, err)
	}
	after, err := Check(ctx, fx.dir, fx.opts)
	if err != nil || len(after.Damage) != 0 || after.LastSeq != victim-1 {
		t.Fatalf("Check after repair: %+v, %v", after, err)
	}
	s := mustOpen(t, fx.dir, fx.opts)
	defer s.Close()
	if seq, err := s.Append(ctx, rec("c", 0)); err != nil || seq != victim {
		t.Fatalf("append after repair = %d, %v", seq, err)
	}
}

func TestCorruptionRefusesToStart(t *testing.T) {
	t.Run("bad checksum in the middle of the last segment", func(t *testing.T) {
		fx := newFixture(t, 60, 0)
		last := fx.segs[len(fx.segs)-1]
		var victim Seq
		for seq := fx.last; fx.files[seq] == last; seq-- {
			victim = seq
		}
		if victim == fx.last {
			t.Fatal("last segment has one record")
		}
		flipByte(t, last, fx.offsets[victim]+12)
		mustReport(t, fx, last, fx.offsets[victim], "checksum mismatch")
	})
	t.Run("bad length in the middle of the last segment", func(t *testing.T) {
		fx := newFixture(t, 60, 0)
		last := fx.segs[len(fx.segs)-1]
		victim := fx.last - 1
		if fx.files[victim] != last {
			t.Fatal("fixture layout changed")
		}
		flipByte(t, last, fx.offsets[victim]+2) // length becomes huge
		mustReport(t, fx, last, fx.offsets[victim], "runs past the end of the data")
	})
	t.Run("bad checksum in a sealed segment", func(t *testing.T) {
		fx := newFixture(t, 60, 0)
		seg := fx.segs[0]
		flipByte(t, seg, fx.offsets[3]+9)
		mustReport(t, fx, seg, fx.offsets[3], "record checksum mismatch")
	})
	t.Run("truncated sealed segment", func(t *testing.T) {
		fx := newFixture(t, 60, 0)
		seg := fx.segs[1]
		full := size(t, seg)
		truncateTo(t, seg, full-4)
		mustRefuse(t, fx, seg, full-4, "truncated or overwritten")
	})
	t.Run("missing segment", func(t *testing.T) {
		fx := newFixture(t, 60, 0)
		if err := os.Remove(fx.segs[1]); err != nil {
			t.Fatal(err)
		}
		mustRefuse(t, fx, fx.segs[2], 20, "a segment is missing")
	})
	t.Run("unknown segment version", func(t *testing.T) {
		fx := newFixture(t, 60, 0)
		seg := fx.segs[len(fx.segs)-1]
		b, _ := os.ReadFile(seg)
		b[8] = 9
		os.WriteFile(seg, b, 0o644)
		mustRefuse(t, fx, seg, 8, "unknown segment version 9")
	})
	t.Run("garbage segment header", func(t *testing.T) {
		fx := newFixture(t, 60, 0)
		flipByte(t, fx.segs[0], 0)
		mustRefuse(t, fx, fx.segs[0], 0, "bad magic")
	})
	t.Run("garbage snapshot", func(t *testing.T) {
		fx := newFixture(t, 60, 30)
		snap := filepath.Join(fx.dir, snapshotName(30))
		flipByte(t, snap, snapshotHeaderSize+2)
		mustRefuse(t, fx, snap, snapshotHeaderSize, "snapshot state checksum mismatch")
	})
	t.Run("truncated snapshot", func(t *testing.T) {
		fx := newFixture(t, 60, 30)
		snap := filepath.Join(fx.dir, snapshotName(30))
		truncateTo(t, snap, 10)
		mustRefuse(t, fx, snap, 10, "snapshot header truncated")
	})
	t.Run("unknown snapshot version", func(t *testing.T) {
		fx := newFixture(t, 60, 30)
		snap := filepath.Join(fx.dir, snapshotName(30))
		b, _ := os.ReadFile(snap)
		b[8] = 7
		os.WriteFile(snap, b, 0o644)
		mustRefuse(t, fx, snap, 8, "unknown snapshot version 7")
	})
}

func TestScanReportsLaterDamage(t *testing.T) {
	fx := newFixture(t, 60, 59)
	s := mustOpen(t, fx.dir, fx.opts)
	defer s.Close()
	// Open skipped the sealed segments the snapshot covers; damage there
	// surfaces, with its position, when something replays them.
	flipByte(t, fx.segs[0], fx.offsets[2]+10)
	err := s.Scan(context.Background(), 1, func(Record) error { return nil })
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.File != fx.segs[0] || ce.Offset != fx.offsets[2] {
		t.Fatalf("Scan error %v, want damage at %s:%d", err, fx.segs[0], fx.offsets[2])
	}
}
