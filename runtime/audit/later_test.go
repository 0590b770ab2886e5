package audit

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// laterN queues n records with AppendLater (limit 1<<20), each telling
// its outcome on the returned channel.
func laterN(t *testing.T, l *Log, n int) chan error {
	t.Helper()
	told := make(chan error, n)
	for i := 0; i < n; i++ {
		r := rec("acme", fmt.Sprintf("refused %d", i), "resource_exhausted")
		if !l.AppendLater(r, 1<<20, func(err error) { told <- err }) {
			t.Fatalf("AppendLater %d refused", i)
		}
	}
	return told
}

// TestAppendLaterRidesTheNextCommit: records appended with AppendLater
// cost no commit of their own: a hundred of them and then one Append
// are one write and one fsync, in the order they came, and each is
// told it is durable.
func TestAppendLaterRidesTheNextCommit(t *testing.T) {
	data := t.TempDir()
	l, err := Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.SetLaterDelay(time.Hour)
	before := l.Commits()
	told := laterN(t, l, 100)
	if _, err := l.Append(rec("beta", "admitted", ResultOK)); err != nil {
		t.Fatal(err)
	}
	if n := l.Commits() - before; n != 1 {
		t.Fatalf("100 later records and one Append took %d commits, want 1", n)
	}
	for i := 0; i < 100; i++ {
		if err := <-told; err != nil {
			t.Fatalf("record %d told %v", i, err)
		}
	}
	recs, err := ReadAll(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 101 {
		t.Fatalf("the log holds %d records, want 101", len(recs))
	}
	for i, r := range recs[:100] {
		if want := fmt.Sprintf("refused %d", i); r.Action != want {
			t.Fatalf("record %d is %q, want %q", i, r.Action, want)
		}
	}
	if recs[100].Action != "admitted" {
		t.Fatalf("the last record is %q", recs[100].Action)
	}
}

// TestAppendLaterCommitsOnItsOwn: with no Append to ride, a later
// record is committed after the log's delay, in one commit with those
// queued beside it.
func TestAppendLaterCommitsOnItsOwn(t *testing.T) {
	data := t.TempDir()
	l, err := Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.SetLaterDelay(time.Millisecond)
	before := l.Commits()
	told := laterN(t, l, 1)
	select {
	case err := <-told:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("a later record was never committed")
	}
	if n := l.Commits() - before; n != 1 {
		t.Fatalf("%d commits, want 1", n)
	}
	if recs, err := ReadAll(data); err != nil || len(recs) != 1 {
		t.Fatalf("the log holds %d records (%v), want 1", len(recs), err)
	}
}

// TestAppendLaterBoundedFlushedClosed: AppendLater refuses beyond its
// limit (the caller then waits with Append); Flush makes what is queued
// durable; Close writes what is still queued; after Close nothing is
// queued and every append is refused with ErrClosed.
func TestAppendLaterBoundedFlushedClosed(t *testing.T) {
	data := t.TempDir()
	l, err := Open(data)
	if err != nil {
		t.Fatal(err)
	}
	l.SetLaterDelay(time.Hour)
	for i := 0; i < 3; i++ {
		if !l.AppendLater(rec("acme", "x", "unauthenticated"), 3, nil) {
			t.Fatalf("record %d of 3 refused", i)
		}
	}
	if l.AppendLater(rec("acme", "x", "unauthenticated"), 3, nil) {
		t.Fatal("a 4th record past the limit of 3 was queued")
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if recs, err := ReadAll(data); err != nil || len(recs) != 3 {
		t.Fatalf("after Flush the log holds %d records (%v), want 3", len(recs), err)
	}
	// Flushed, the limit counts afresh; these wait for Close.
	told := laterN(t, l, 2)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := <-told; err != nil {
			t.Fatalf("record %d told %v", i, err)
		}
	}
	if recs, err := ReadAll(data); err != nil || len(recs) != 5 {
		t.Fatalf("after Close the log holds %d records (%v), want 5", len(recs), err)
	}
	if l.AppendLater(rec("acme", "x", "unauthenticated"), 3, nil) {
		t.Fatal("AppendLater after Close queued a record")
	}
	if _, err := l.Append(rec("acme", "x", ResultOK)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
	if err := l.Flush(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Flush after Close: %v", err)
	}
}
