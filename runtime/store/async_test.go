// This file tests AppendAsync and KeyCase.

package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestAppendAsync: callbacks come in call order with dense sequence
// numbers, only after the records are durable (a reader opened in the
// callback sees them), and a Close waits for every accepted batch.
func TestAppendAsync(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{})
	var mu sync.Mutex
	var firsts []Seq
	var seen []int
	var positions []Position
	for i := range 50 {
		recs := []Record{{CaseID: "a", Kind: "k", Payload: []byte(fmt.Sprint(i))}, {CaseID: "b", Kind: "k", Payload: []byte("x")}}
		err := s.AppendAsync(ctx, recs, func(pos []Position, err error) {
			if err != nil || len(pos) != 2 || pos[1].Seq != pos[0].Seq+1 {
				t.Errorf("batch %d: %v %v", i, pos, err)
				return
			}
			first := pos[0].Seq
			mu.Lock()
			firsts = append(firsts, first)
			positions = append(positions, pos...)
			mu.Unlock()
			if i%10 == 0 {
				ro, err := OpenReadOnly(dir, Options{})
				if err != nil {
					t.Error(err)
					return
				}
				n := 0
				ro.Scan(ctx, 0, func(r Record) error { n++; return nil })
				ro.Close()
				mu.Lock()
				seen = append(seen, n)
				mu.Unlock()
				if n < int(first)+1 {
					t.Errorf("batch %d acknowledged at %d, yet a reader sees %d records", i, first, n)
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if len(firsts) != 50 {
		t.Fatalf("%d callbacks after Close, want 50", len(firsts))
	}
	for i, f := range firsts {
		if f != Seq(2*i+1) {
			t.Fatalf("callback %d: first %d, want %d", i, f, 2*i+1)
		}
	}
	if len(seen) != 5 {
		t.Fatalf("reader checks: %v", seen)
	}
	// Each position starts a scan at its record, without reading the
	// segment up to it.
	ro, err := OpenReadOnly(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	for _, i := range []int{0, 1, 37, 99} {
		var got []Record
		err := ro.ScanViews(ctx, positions[i], func(r RecordView, _ Position) error {
			got = append(got, r.Record())
			return errStopTest
		})
		if err != errStopTest || len(got) != 1 || got[0].Seq != positions[i].Seq || got[0].CaseID != []string{"a", "b"}[i%2] {
			t.Fatalf("scan from position %d: %+v %v", i, got, err)
		}
	}
	if err := s.AppendAsync(ctx, []Record{{CaseID: "a", Kind: "k"}}, func([]Position, error) { t.Error("called after Close") }); err != ErrClosed {
		t.Fatalf("AppendAsync after Close: %v, want ErrClosed", err)
	}
}

var errStopTest = errors.New("stop")

func TestKeyCase(t *testing.T) {
	for _, c := range []string{"c-1", "a/b:c", "", "12:x/"} {
		if got, ok := KeyCase(Key(c, "t/1:2", 3)); !ok || got != c {
			t.Errorf("KeyCase(Key(%q)) = %q, %v", c, got, ok)
		}
	}
	for _, bad := range []string{"", "x", "3:ab", "-1:/", "2:ab", "9:abc/d", "+1:a/", "01:a/"} {
		if got, ok := KeyCase(bad); ok {
			t.Errorf("KeyCase(%q) = %q, want not ok", bad, got)
		}
	}
}

// FuzzKeyCase: KeyCase gives back the case id of every key Key makes,
// and whatever it accepts is the length-prefixed first part.
func FuzzKeyCase(f *testing.F) {
	f.Add("c-1", "t#1", 2, "3:abc/x")
	f.Fuzz(func(t *testing.T, c, tr string, attempt int, s string) {
		if got, ok := KeyCase(Key(c, tr, attempt)); !ok || got != c {
			t.Fatalf("KeyCase(Key(%q, %q, %d)) = %q, %v", c, tr, attempt, got, ok)
		}
		if got, ok := KeyCase(s); ok && !strings.HasPrefix(s, strconv.Itoa(len(got))+":"+got+"/") {
			t.Fatalf("KeyCase(%q) = %q", s, got)
		}
	})
}

// TestKeyLayout: Key's bytes, as workers have seen them in task IDs,
// and InvocationKey's are Key's of the joined transition.
func TestKeyLayout(t *testing.T) {
	if got, want := Key("c-1", "charge#4", 2), "3:c-1/8:charge#4/2"; got != want {
		t.Errorf("Key = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		c, name  string
		inv, att int
	}{{"c-1", "charge", 4, 2}, {"", "", 0, 0}, {"a/b:c", "x#1", 123456789, -3}, {"c", "undo", -1, 1}} {
		want := Key(tc.c, tc.name, tc.att)
		if tc.inv >= 0 {
			want = Key(tc.c, tc.name+"#"+strconv.Itoa(tc.inv), tc.att)
		}
		if got := InvocationKey(tc.c, tc.name, tc.inv, tc.att); got != want {
			t.Errorf("InvocationKey(%q, %q, %d, %d) = %q, want %q", tc.c, tc.name, tc.inv, tc.att, got, want)
		}
	}
}
