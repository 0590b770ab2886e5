// This file fuzzes damage to the end of a log: whatever happens to the
// last segment, acknowledged records are either all read back or the
// damage is reported, never silently dropped.

package store

import (
	"context"
	"errors"
	"os"
	"testing"
)

func FuzzDamageIsNeverSilent(f *testing.F) {
	f.Add(uint32(0), byte(1), false)
	f.Add(uint32(20), byte(0x80), false)
	f.Add(uint32(600), byte(0), true)
	f.Add(uint32(1540), byte(0xff), false)
	f.Fuzz(func(t *testing.T, off uint32, x byte, cut bool) {
		dir := t.TempDir()
		ctx := context.Background()
		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		const n = 8
		for i := range n {
			if _, err := s.Append(ctx, rec("c", i)); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
		path := dir + "/" + segmentName(1)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		at := int(off) % len(b)
		if cut {
			b = b[:at]
		} else if x != 0 {
			b[at] ^= x
		} else {
			return
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, open := range []func(string, Options) (*Store, error){Open, OpenReadOnly} {
			s, err := open(dir, Options{})
			var ce *CorruptError
			if err != nil {
				if !errors.As(err, &ce) {
					t.Fatalf("Open: %v, want a *CorruptError", err)
				}
				continue
			}
			got := 0
			err = s.Scan(ctx, 1, func(r Record) error {
				if string(r.Payload) != string(rec("c", got).Payload) {
					t.Fatalf("record %d changed: %q", r.Seq, r.Payload)
				}
				got++
				return nil
			})
			s.Close()
			if err != nil {
				if !errors.As(err, &ce) {
					t.Fatalf("Scan: %v, want a *CorruptError", err)
				}
				continue
			}
			if got != n {
				t.Fatalf("damage at %d (cut %v, xor %#x) silently lost %d of %d acknowledged records", at, cut, x, n-got, n)
			}
		}
	})
}
