// This file tests scanning from remembered positions.

package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestScanFromPosition(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{SegmentBytes: 1024})
	defer s.Close()
	for i := range 200 {
		if _, err := s.Append(ctx, Record{CaseID: fmt.Sprint("c", i%3), Kind: "k", Payload: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	var pos []Position
	if err := s.ScanPositions(ctx, 0, func(r Record, p Position) error {
		if p.Seq != r.Seq {
			t.Fatalf("position of %d says %d", r.Seq, p.Seq)
		}
		pos = append(pos, p)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(pos) != 200 {
		t.Fatalf("%d positions", len(pos))
	}
	for _, k := range []int{0, 1, 57, 120, 199} {
		var got []Seq
		if err := s.ScanFrom(ctx, pos[k], func(r Record) error {
			if want := fmt.Sprint(int(r.Seq) - 1); string(r.Payload) != want {
				t.Fatalf("record %d has payload %q, want %q", r.Seq, r.Payload, want)
			}
			got = append(got, r.Seq)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(got) != 200-k || got[0] != Seq(k+1) {
			t.Errorf("from position %d: %d records starting at %v", k, len(got), got[:min(1, len(got))])
		}
	}
	// A position whose bytes hold another record is refused.
	bad := pos[57]
	bad.Seq++
	if err := s.ScanFrom(ctx, bad, func(Record) error { return nil }); err == nil {
		t.Errorf("scanned from a position naming another record")
	}
	bad = pos[57]
	bad.seg = 999_999
	if err := s.ScanFrom(ctx, bad, func(Record) error { return nil }); !errors.Is(err, ErrCompacted) {
		t.Errorf("scanned from a missing segment: %v", err)
	}
	// The zero position is the start of the log.
	n := 0
	if err := s.ScanFrom(ctx, Position{}, func(Record) error { n++; return nil }); err != nil || n != 200 {
		t.Errorf("from the zero position: %d records, %v", n, err)
	}
}
