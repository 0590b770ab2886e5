package meter_test

import (
	"context"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/meter"
	"github.com/knhk/knhk/runtime/store"
)

// TestCountRecordsIsCount counts a server's log twice: read from its
// store by Count, and handed over record by record to CountRecords (as
// a cluster hands its committed events): every field is equal.
func TestCountRecordsIsCount(t *testing.T) {
	dir := t.TempDir()
	serve(t, dir, 3, 2)
	st, err := store.OpenReadOnly(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	month := meter.Month(time.Now().UnixNano())
	want, err := meter.Count(context.Background(), st, month)
	if err != nil {
		t.Fatal(err)
	}
	var recs []store.Record
	if err := st.Scan(context.Background(), 0, func(r store.Record) error {
		r.Payload = append([]byte(nil), r.Payload...)
		recs = append(recs, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got, err := meter.CountRecords(month, recs)
	if err != nil || got != want {
		t.Fatalf("CountRecords %+v (%v), Count %+v", got, err, want)
	}
	if want.TaskTimeNS == 0 || want.Cases != 5 {
		t.Fatalf("the log counted %+v", want)
	}
}
