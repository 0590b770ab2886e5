// This file tests the run-time support of typed compiled code: the memo
// of converted lists and the list builtins over slices.

package eval_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/knhk/knhk/runtime/eval"
)

// TestMemo checks that a list is converted once per key and again when
// the key changes, and that a new list with the same elements is not
// taken for the old one.
func TestMemo(t *testing.T) {
	elems := []eval.Value{eval.Int(1), eval.Int(2)}
	l := eval.List(elems)
	builds := 0
	conv := func(v eval.Value) any {
		builds++
		out := make([]int64, v.Len())
		for i := range out {
			out[i] = v.Index(i).AsInt()
		}
		return out
	}
	k1, k2 := new(byte), new(byte)
	for range 3 {
		if got := l.Memo(k1, conv).([]int64); len(got) != 2 || got[1] != 2 {
			t.Fatalf("memo %v", got)
		}
	}
	if builds != 1 {
		t.Errorf("%d conversions of one list under one key, want 1", builds)
	}
	l.Memo(k2, conv)
	l.Memo(k1, conv)
	if builds != 3 {
		t.Errorf("%d conversions after switching keys twice, want 3", builds)
	}
	eval.List(elems).Memo(k1, conv)
	if builds != 4 {
		t.Errorf("a new list shared the old list's memo")
	}
}

// TestSliceFolds checks the list builtins over slices against the
// register machine's rules: filter keeps order, any and all stop at the
// deciding element, sums of ints fail on overflow, a lambda's error
// stops the fold.
func TestSliceFolds(t *testing.T) {
	xs := []int64{3, -1, 4, -1, 5}
	calls := 0
	pos := func(x int64) (bool, error) { calls++; return x > 0, nil }
	got, err := eval.FilterOf(xs, pos)
	if err != nil || len(got) != 3 || got[0] != 3 || got[2] != 5 {
		t.Errorf("filter %v, %v", got, err)
	}
	calls = 0
	if ok, _ := eval.AllOf(xs, pos); ok || calls != 2 {
		t.Errorf("all = %v after %d calls, want false after 2", ok, calls)
	}
	calls = 0
	if ok, _ := eval.AnyOf([]int64{-1, -2, 7, 8}, pos); !ok || calls != 3 {
		t.Errorf("any = %v after %d calls, want true after 3", ok, calls)
	}
	if _, err := eval.SumInts([]int64{1 << 62, 1 << 62}); err == nil || err.Error() != "integer overflow" {
		t.Errorf("sum overflow: %v", err)
	}
	boom := errors.New("boom")
	if _, err := eval.MapOf(xs, func(x int64) (int64, error) {
		if x == 4 {
			return 0, boom
		}
		return x, nil
	}); !errors.Is(err, boom) {
		t.Errorf("map error: %v", err)
	}
	if _, err := eval.IndexOf(xs, 5); err == nil || err.Error() != "index 5 out of range [0:5]" {
		t.Errorf("index error: %v", err)
	}
}

// FilterOf keeps the hits in order over lists shorter and longer than
// its one-word bitset, calls f once per element in order, and stops at
// f's first error.
func TestFilterOfBitset(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 65, 200, 10000} {
		xs := make([]int, n)
		for i := range xs {
			xs[i] = i
		}
		var seen []int
		got, err := eval.FilterOf(xs, func(x int) (bool, error) {
			seen = append(seen, x)
			return x%3 == 0 || x == 64, nil
		})
		if err != nil || len(seen) != n {
			t.Fatalf("n=%d: %v, f called %d times", n, err, len(seen))
		}
		var want []int
		for _, x := range xs {
			if x%3 == 0 || x == 64 {
				want = append(want, x)
			}
		}
		if !slices.Equal(got, want) || (want == nil) != (got == nil) || cap(got) != len(got) {
			t.Fatalf("n=%d: %v (cap %d), want %v", n, got, cap(got), want)
		}
	}
	calls := 0
	_, err := eval.FilterOf([]int{1, 2, 3, 4}, func(x int) (bool, error) {
		calls++
		if x == 2 {
			return false, errors.New("boom")
		}
		return true, nil
	})
	if err == nil || calls != 2 {
		t.Errorf("error %v after %d calls, want boom after 2", err, calls)
	}
}
