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
	fx := &fixture{dir: t.TempDir(), opts: Options{SegmentBytes: 600}, offsets: map[Seq]int64{}, files: map[Seq]string{}}
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
		off := segmentHeaderSize
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

func TestTornTailIsRepaired(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, fx *fixture, path string, lastOff int64)
	}{
		{"partial frame", func(t *testing.T, fx *fixture, path string, lastOff int64) {
			truncateTo(t, path, lastOff+5)
		}},
		{"partial body", func(t *testing.T, fx *fixture, path string, lastOff int64) {
			truncateTo(t, path, size(t, path)-3)
		}},
		{"damaged final frame", func(t *testing.T, fx *fixture, path string, lastOff int64) {
			flipByte(t, path, size(t, path)-1)
		}},
		{"zero-filled tail", func(t *testing.T, fx *fixture, path string, lastOff int64) {
			truncateTo(t, path, lastOff+2)
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(make([]byte, 4096))
			f.Close()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t, 60, 0)
			path, lastOff := fx.files[fx.last], fx.offsets[fx.last]
			if path != fx.segs[len(fx.segs)-1] {
				t.Fatal("last record is not in the last segment")
			}
			tc.damage(t, fx, path, lastOff)
			var logged []string
			opts := fx.opts
			opts.Logf = func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }
			s := mustOpen(t, fx.dir, opts)
			r := s.Report()
			if !r.Repaired || r.TornFile != path || r.TornOffset != lastOff || r.LastSeq != fx.last-1 {
				t.Fatalf("report %+v, want repair of %s at %d", r, path, lastOff)
			}
			if len(logged) != 1 || !strings.Contains(logged[0], path) {
				t.Fatalf("log lines %q", logged)
			}
			if got := len(collect(t, s, 1)); got != int(fx.last-1) {
				t.Fatalf("%d records after repair, want %d", got, fx.last-1)
			}
			// The next append takes the torn record's place.
			if seq, err := s.Append(context.Background(), rec("c", 0)); err != nil || seq != fx.last {
				t.Fatalf("append after repair = %d, %v", seq, err)
			}
			s.Close()
			if size(t, path) <= lastOff {
				t.Fatal("append after repair did not land in the repaired segment")
			}
			s = mustOpen(t, fx.dir, fx.opts)
			defer s.Close()
			if s.Report().Repaired {
				t.Fatal("second Open repaired again")
			}
		})
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
		mustRefuse(t, fx, last, fx.offsets[victim], "checksum mismatch, followed by an intact record")
	})
	t.Run("bad length in the middle of the last segment", func(t *testing.T) {
		fx := newFixture(t, 60, 0)
		last := fx.segs[len(fx.segs)-1]
		victim := fx.last - 1
		if fx.files[victim] != last {
			t.Fatal("fixture layout changed")
		}
		flipByte(t, last, fx.offsets[victim]+2) // length becomes huge
		mustRefuse(t, fx, last, fx.offsets[victim], "runs past the end of the data, followed by an intact record")
	})
	t.Run("bad checksum in a sealed segment", func(t *testing.T) {
		fx := newFixture(t, 60, 0)
		seg := fx.segs[0]
		flipByte(t, seg, fx.offsets[3]+9)
		mustRefuse(t, fx, seg, fx.offsets[3], "record checksum mismatch")
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
