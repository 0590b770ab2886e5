// This file tests appending, replay, locking, snapshots and compaction.

package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func mustOpen(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func rec(caseID string, i int) Record {
	return Record{CaseID: caseID, Kind: "fire", Payload: []byte(fmt.Sprintf("%s#%d", caseID, i))}
}

func collect(t testing.TB, s *Store, from Seq) []Record {
	t.Helper()
	var out []Record
	if err := s.Scan(context.Background(), from, func(r Record) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return out
}

func TestAppendScanReopen(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	s := mustOpen(t, dir, Options{})
	for i := range 10 {
		seq, err := s.Append(ctx, rec("c1", i))
		if err != nil {
			t.Fatal(err)
		}
		if seq != Seq(i+1) {
			t.Fatalf("append %d got seq %d", i, seq)
		}
	}
	first, err := s.AppendBatch(ctx, []Record{rec("c2", 0), rec("c2", 1), {CaseID: "", Kind: "", Payload: nil}})
	if err != nil || first != 11 {
		t.Fatalf("AppendBatch = %d, %v; want 11", first, err)
	}
	if got := s.LastSeq(); got != 13 {
		t.Fatalf("LastSeq = %d", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, rec("c1", 99)); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}

	s = mustOpen(t, dir, Options{})
	defer s.Close()
	if r := s.Report(); r.LastSeq != 13 || r.Repaired || r.Segments != 1 {
		t.Fatalf("report %+v", r)
	}
	all := collect(t, s, 0)
	if len(all) != 13 {
		t.Fatalf("got %d records", len(all))
	}
	for i, r := range all[:10] {
		want := rec("c1", i)
		if r.Seq != Seq(i+1) || r.CaseID != want.CaseID || r.Kind != want.Kind || string(r.Payload) != string(want.Payload) {
			t.Fatalf("record %d = %+v", i, r)
		}
	}
	if r := all[12]; r.CaseID != "" || r.Kind != "" || len(r.Payload) != 0 {
		t.Fatalf("empty record came back as %+v", r)
	}
	if got := collect(t, s, 12); len(got) != 2 || got[0].Seq != 12 {
		t.Fatalf("scan from 12: %+v", got)
	}
	if got := collect(t, s, 14); len(got) != 0 {
		t.Fatalf("scan past end: %+v", got)
	}
	// Appends continue the sequence after reopen.
	if seq, err := s.Append(ctx, rec("c3", 0)); err != nil || seq != 14 {
		t.Fatalf("append after reopen = %d, %v", seq, err)
	}
}

func TestConcurrentAppendsAreDenseAndUnique(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{SegmentBytes: 4 << 10})
	const workers, each = 16, 40
	var wg sync.WaitGroup
	seqs := make([][]Seq, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				seq, err := s.Append(ctx, rec(fmt.Sprintf("case-%d", w), i))
				if err != nil {
					t.Error(err)
					return
				}
				seqs[w] = append(seqs[w], seq)
			}
		})
	}
	wg.Wait()
	seen := map[Seq]bool{}
	for w := range workers {
		for i, seq := range seqs[w] {
			if seen[seq] {
				t.Fatalf("seq %d handed out twice", seq)
			}
			seen[seq] = true
			if i > 0 && seq <= seqs[w][i-1] {
				t.Fatalf("worker %d: seq went backwards", w)
			}
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, dir, Options{SegmentBytes: 4 << 10})
	defer s.Close()
	if s.Report().Segments < 3 {
		t.Fatalf("expected rotation into several segments, got %d", s.Report().Segments)
	}
	all := collect(t, s, 1)
	if len(all) != workers*each {
		t.Fatalf("got %d records, want %d", len(all), workers*each)
	}
	next := map[string]int{}
	for i, r := range all {
		if r.Seq != Seq(i+1) {
			t.Fatalf("record %d has seq %d", i, r.Seq)
		}
		want := rec(r.CaseID, next[r.CaseID])
		if string(r.Payload) != string(want.Payload) {
			t.Fatalf("case %s out of order: %q, want %q", r.CaseID, r.Payload, want.Payload)
		}
		next[r.CaseID]++
	}
}

// TestTwoStoresShareADirectory: two Stores on one directory (as two
// processes would have) append in turn; sequence numbers stay dense and
// each sees the other's records once it commits.
func TestTwoStoresShareADirectory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := Options{SegmentBytes: 300}
	a := mustOpen(t, dir, opts)
	b := mustOpen(t, dir, opts)
	for i := range 40 {
		s, c := a, "a"
		if i%3 == 0 {
			s, c = b, "b"
		}
		seq, err := s.Append(ctx, rec(c, i))
		if err != nil {
			t.Fatal(err)
		}
		if seq != Seq(i+1) {
			t.Fatalf("append %d got seq %d", i, seq)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := OpenReadOnly(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := collect(t, r, 1)
	if len(got) != 40 {
		t.Fatalf("%d records, want 40", len(got))
	}
	for i, x := range got {
		if want := rec(x.CaseID, i); string(x.Payload) != string(want.Payload) {
			t.Fatalf("record %d is %q, want %q", i+1, x.Payload, want.Payload)
		}
	}
	if _, err := r.Append(ctx, rec("c", 0)); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Append on a read-only store: %v", err)
	}
}

func TestCaseLock(t *testing.T) {
	dir := t.TempDir()
	a := mustOpen(t, dir, Options{})
	defer a.Close()
	b := mustOpen(t, dir, Options{})
	defer b.Close()
	release, err := a.LockCase("c-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.LockCase("c-1"); !errors.Is(err, ErrCaseBusy) {
		t.Fatalf("second lock of c-1: %v, want ErrCaseBusy", err)
	}
	other, err := b.LockCase("c-2")
	if err != nil {
		t.Fatalf("lock of another case: %v", err)
	}
	other()
	release()
	again, err := b.LockCase("c-1")
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again()
}

func TestRecordTooLarge(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{MaxRecordBytes: 64})
	defer s.Close()
	if _, err := s.Append(context.Background(), Record{Payload: make([]byte, 100)}); err == nil {
		t.Fatal("oversized record accepted")
	}
	if seq, err := s.Append(context.Background(), Record{Payload: make([]byte, 10)}); err != nil || seq != 1 {
		t.Fatalf("small record after rejected one: %d, %v", seq, err)
	}
}

func TestCancelledContext(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{})
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Append(ctx, rec("c", 0)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with cancelled ctx: %v", err)
	}
	if s.LastSeq() != 0 {
		t.Fatal("cancelled append was committed")
	}
}

func TestSnapshotAndCompact(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := Options{SegmentBytes: 1 << 10}
	s := mustOpen(t, dir, opts)
	if _, ok, err := s.LatestSnapshot(ctx); ok || err != nil {
		t.Fatalf("LatestSnapshot on empty store = %v, %v", ok, err)
	}
	for i := range 200 {
		if _, err := s.Append(ctx, rec("c", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.WriteSnapshot(ctx, 201, []byte("x")); err == nil {
		t.Fatal("snapshot ahead of the log accepted")
	}
	if err := s.WriteSnapshot(ctx, 100, []byte("state@100")); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteSnapshot(ctx, 150, []byte("state@150")); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteSnapshot(ctx, 120, []byte("older")); err == nil {
		t.Fatal("snapshot older than the latest accepted")
	}
	snap, ok, err := s.LatestSnapshot(ctx)
	if err != nil || !ok || snap.Seq != 150 || string(snap.State) != "state@150" {
		t.Fatalf("LatestSnapshot = %+v, %v, %v", snap, ok, err)
	}
	if _, err := os.Stat(filepath.Join(dir, snapshotName(100))); !os.IsNotExist(err) {
		t.Fatalf("superseded snapshot still there: %v", err)
	}
	segsBefore := len(s.segs)
	n, err := s.Compact(ctx)
	if err != nil || n == 0 {
		t.Fatalf("Compact = %d, %v (segments %d)", n, err, segsBefore)
	}
	// Replay from the snapshot still works; from before it does not.
	if got := collect(t, s, 151); len(got) != 50 || got[0].Seq != 151 {
		t.Fatalf("scan after compact: %d records", len(got))
	}
	if err := s.Scan(ctx, 1, func(Record) error { return nil }); !errors.Is(err, ErrCompacted) {
		t.Fatalf("scan of compacted records: %v", err)
	}
	s.Close()

	s = mustOpen(t, dir, opts)
	defer s.Close()
	r := s.Report()
	if !r.HasSnapshot || r.SnapshotSeq != 150 || r.LastSeq != 200 || r.Segments != segsBefore-n {
		t.Fatalf("report after reopen %+v (before: %d segments, removed %d)", r, segsBefore, n)
	}
	if got := collect(t, s, 151); len(got) != 50 {
		t.Fatalf("replay after reopen: %d records", len(got))
	}
}

func TestKey(t *testing.T) {
	keys := map[string][3]any{}
	for _, k := range [][3]any{
		{"a", "b", 1}, {"a/1:b", "", 1}, {"a", "b/1", 1}, {"a/", "b", 1},
		{"", "a/b", 1}, {"a", "b", 11}, {"a", "b", -1}, {"1:a", "b", 1},
	} {
		key := Key(k[0].(string), k[1].(string), k[2].(int))
		if prev, dup := keys[key]; dup {
			t.Fatalf("Key(%v) == Key(%v) == %q", k, prev, key)
		}
		keys[key] = k
	}
	if Key("case-7", "reserve", 2) != Key("case-7", "reserve", 2) {
		t.Fatal("Key is not deterministic")
	}
}

func TestOpenReadsNoRecords(t *testing.T) {
	fx := newFixture(t, 60, 59)
	// Damage in the middle of a sealed segment: Open checks headers, the
	// chain and the last acknowledged record, not every record, so it
	// opens; the first scan over the damage reports it.
	flipByte(t, fx.segs[0], fx.offsets[2]+10)
	s := mustOpen(t, fx.dir, fx.opts)
	defer s.Close()
	r := s.Report()
	if r.Segments != len(fx.segs) || r.SnapshotSeq != 59 || r.LastSeq != fx.last {
		t.Fatalf("report %+v", r)
	}
}

func TestOpenRemovesLeftovers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{})
	for i := range 5 {
		s.Append(ctx, rec("c", i))
	}
	if err := s.WriteSnapshot(ctx, 3, []byte("s3")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// A crash between writing a newer snapshot and removing the older one,
	// and one in the middle of an atomic write.
	old := encodeSnapshot(2, []byte("s2"))
	os.WriteFile(filepath.Join(dir, snapshotName(2)), old, 0o644)
	os.WriteFile(filepath.Join(dir, snapshotName(4)+tmpExt), []byte("half"), 0o644)
	s = mustOpen(t, dir, Options{})
	defer s.Close()
	got := s.Report().Removed
	if len(got) != 2 {
		t.Fatalf("Removed = %v", got)
	}
	for _, name := range []string{snapshotName(2), snapshotName(4) + tmpExt} {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Fatalf("%s survived Open", name)
		}
	}
	snap, ok, err := s.LatestSnapshot(ctx)
	if err != nil || !ok || snap.Seq != 3 || string(snap.State) != "s3" {
		t.Fatalf("LatestSnapshot = %+v, %v, %v", snap, ok, err)
	}
}

func TestFailedWriteStopsAppends(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{})
	if _, err := s.Append(ctx, rec("c", 0)); err != nil {
		t.Fatal(err)
	}
	// Pull the file out from under the committer; no other goroutine
	// touches s.active while no append is in flight.
	s.active.Close()
	_, first := s.Append(ctx, rec("c", 1))
	if first == nil {
		t.Fatal("append to a closed file succeeded")
	}
	if _, err := s.Append(ctx, rec("c", 2)); err == nil || err.Error() != first.Error() {
		t.Fatalf("append after a failed write: %v, want the first failure %v", err, first)
	}
	if s.LastSeq() != 1 {
		t.Fatalf("LastSeq = %d after failed appends", s.LastSeq())
	}
	s.Close()
	s = mustOpen(t, dir, Options{})
	defer s.Close()
	if got := collect(t, s, 1); len(got) != 1 {
		t.Fatalf("%d records after reopen, want 1", len(got))
	}
	if seq, err := s.Append(ctx, rec("c", 1)); err != nil || seq != 2 {
		t.Fatalf("append after reopen = %d, %v", seq, err)
	}
}

func TestScanWhileAppending(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, t.TempDir(), Options{SegmentBytes: 2 << 10})
	defer s.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.Append(ctx, rec(fmt.Sprint(w), i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for s.LastSeq() < 100 {
		time.Sleep(time.Millisecond)
	}
	for range 20 {
		floor := s.LastSeq()
		n := Seq(0)
		for r, err := range s.Records(ctx, 1) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; r.Seq != n {
				t.Fatalf("scan saw seq %d at position %d", r.Seq, n)
			}
		}
		if n < floor {
			t.Fatalf("scan saw %d records, %d were committed before it started", n, floor)
		}
	}
	close(stop)
	wg.Wait()
}
