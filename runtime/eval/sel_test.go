// This file tests selections against the filtered slices they stand
// for: the same length, map over the same elements in the same order,
// the lambdas called as FilterOf and MapOf call them.

package eval_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/knhk/knhk/runtime/eval"
)

func TestSelection(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 65, 200, 10000} {
		xs := make([]int, n)
		for i := range xs {
			xs[i] = i
		}
		keep := func(x int) (bool, error) { return x%3 == 0 || x == 64, nil }
		var seenF, seenS []int
		want, _ := eval.FilterOf(xs, func(x int) (bool, error) { seenF = append(seenF, x); return keep(x) })
		s, err := eval.SelectOf(xs, func(x int) (bool, error) { seenS = append(seenS, x); return keep(x) })
		if err != nil || !slices.Equal(seenF, seenS) {
			t.Fatalf("n=%d: %v; filter called f on %d elements, select on %d", n, err, len(seenF), len(seenS))
		}
		if s.Len() != len(want) {
			t.Errorf("n=%d: selection of %d, filter of %d", n, s.Len(), len(want))
		}
		var order []int
		got, err := eval.MapSel(s, func(x int) (int, error) { order = append(order, x); return 2 * x, nil })
		wantM, _ := eval.MapOf(want, func(x int) (int, error) { return 2 * x, nil })
		if err != nil || !slices.Equal(got, wantM) || !slices.Equal(order, want) || (got == nil) != (wantM == nil) {
			t.Errorf("n=%d: map over the selection %v (calls %v), over the filtered slice %v", n, got, order, wantM)
		}
	}
	// The first error of the filter's lambda stops it, as FilterOf.
	boom := errors.New("boom")
	calls := 0
	if _, err := eval.SelectOf([]int{1, 2, 3, 4}, func(x int) (bool, error) {
		calls++
		if x == 2 {
			return false, boom
		}
		return true, nil
	}); !errors.Is(err, boom) || calls != 2 {
		t.Errorf("select: %v after %d calls, want boom after 2", err, calls)
	}
	// So does the first error of the map's lambda, on the selected
	// elements only.
	s, _ := eval.SelectOf([]int{1, 2, 3, 4, 5}, func(x int) (bool, error) { return x%2 == 1, nil })
	var seen []int
	if _, err := eval.MapSel(s, func(x int) (int, error) {
		seen = append(seen, x)
		if x == 3 {
			return 0, boom
		}
		return x, nil
	}); !errors.Is(err, boom) || !slices.Equal(seen, []int{1, 3}) {
		t.Errorf("map: %v after calls on %v, want boom after [1 3]", err, seen)
	}
}
