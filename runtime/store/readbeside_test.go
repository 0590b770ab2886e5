package store

import (
	"context"
	"sync/atomic"
	"testing"
)

// TestReadersBesideAWriter opens the directory read-only over and over
// while a writer commits, as "knhk cases" polling beside "knhk run" does.
// A reader lists the segments, then reads the active one's mark; a
// commit in between makes the mark cover more than the size it listed,
// which is not a loss and must not be reported as one. Small segments
// make the writer start new ones too.
func TestReadersBesideAWriter(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := Options{SegmentBytes: 4096}
	w := mustOpen(t, dir, opts)
	defer w.Close()
	if _, err := w.Append(ctx, rec("c", 0)); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	done := make(chan error, 1)
	go func() {
		for i := 1; !stop.Load(); i++ {
			if _, err := w.Append(ctx, rec("c", i)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	var lastSeen Seq
	for i := range 300 {
		r, err := OpenReadOnly(dir, opts)
		if err != nil {
			stop.Store(true)
			<-done
			t.Fatalf("open %d beside a writer: %v", i, err)
		}
		seq := r.LastSeq()
		if seq < lastSeen {
			t.Errorf("open %d sees the log end at %d, before the %d an earlier open saw", i, seq, lastSeen)
		}
		lastSeen = seq
		r.Close()
	}
	stop.Store(true)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if lastSeen < 2 {
		t.Fatalf("the readers saw only %d records: the writer did not run beside them", lastSeen)
	}
}
