package store

import (
	"context"
	"strings"
	"sync"
	"testing"
)

// TestOnCommit checks that Options.OnCommit sees every group commit with
// the records and bytes it made durable, as Stats counts them.
func TestOnCommit(t *testing.T) {
	var mu sync.Mutex
	var got []CommitInfo
	s, err := Open(t.TempDir(), Options{OnCommit: func(c CommitInfo) {
		mu.Lock()
		got = append(got, c)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for range 3 {
		if _, err := s.Append(ctx, Record{CaseID: "c", Kind: "k", Payload: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	batch := make([]Record, 5)
	for i := range batch {
		batch[i] = Record{CaseID: "c", Kind: "k", Payload: []byte("yy")}
	}
	if _, err := s.AppendBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 4 {
		t.Fatalf("OnCommit called %d times, want 4 (three appends, one batch): %+v", len(got), got)
	}
	want := []int{1, 1, 1, 5}
	records := 0
	for i, c := range got {
		if c.Records != want[i] {
			t.Errorf("commit %d: %d records, want %d", i, c.Records, want[i])
		}
		if c.Bytes <= 0 || c.Sync < 0 {
			t.Errorf("commit %d: bytes %d, sync %v", i, c.Bytes, c.Sync)
		}
		records += c.Records
	}
	if got[3].Bytes <= got[0].Bytes {
		t.Errorf("a batch of 5 wrote %d bytes, one record %d", got[3].Bytes, got[0].Bytes)
	}
	if st := s.Stats(); st.Commits != 4 || st.Records != uint64(records) {
		t.Errorf("Stats = %+v, want 4 commits of %d records", st, records)
	}
}

// TestErr checks that Err is nil while appends work and, after a write
// fails, returns the error every later append fails with.
func TestErr(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Append(ctx, Record{CaseID: "c", Kind: "k"}); err != nil || s.Err() != nil {
		t.Fatalf("append: %v, Err: %v", err, s.Err())
	}
	s.active.Close() // the next write fails
	_, err = s.Append(ctx, Record{CaseID: "c", Kind: "k"})
	if err == nil || s.Err() == nil || s.Err().Error() != err.Error() || !strings.HasPrefix(err.Error(), "store: ") {
		t.Fatalf("append after the file closed: %v, Err: %v", err, s.Err())
	}
	if _, again := s.Append(ctx, Record{CaseID: "c", Kind: "k"}); again == nil || again.Error() != s.Err().Error() {
		t.Fatalf("a later append: %v, want %v", again, s.Err())
	}
}
