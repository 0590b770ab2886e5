// This file tests that compiled code charges exactly the interpreter's
// steps, including the typed list builtins and their vector forms
// (FilterCol, AnyCol, AllCol), which charge a whole fold at once: the
// same count with an ample budget; at the interpreter's smallest
// sufficient budget the compiled function succeeds, and one step less
// fails with the interpreter's error.

package bench

import (
	"testing"

	"github.com/knhk/knhk/runtime/eval"
)

func TestStepsMatch(t *testing.T) {
	prog, err := Program()
	if err != nil {
		t.Fatal(err)
	}
	comp, err := Evaluator(prog)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"heavy", "eu_total", "bulky", "flags", "pricey", "cheap", "everyone", "mid", "edge"} {
		i := -1
		for k, f := range prog.Funcs {
			if f.Name == name {
				i = k
			}
		}
		if i < 0 {
			t.Fatalf("no function %s", name)
		}
		fn := prog.Funcs[i]
		for _, size := range []int{0, 1, 37, 300, 1500} {
			os := make([]eval.Value, size)
			for k := range os {
				os[k] = order(prog, k)
			}
			arg := eval.List(os)
			interp := func(max int64) (eval.Value, error) {
				m := eval.New(prog)
				m.MaxSteps = max
				return m.CallFunc(fn, nil, arg)
			}
			compiled := func(max int64) (eval.Value, error) {
				n := &eval.Native{Prog: prog, MaxSteps: max}
				return comp.Funcs[i](n, []eval.Value{arg})
			}
			// With the default budget, the same charge.
			m := eval.New(prog)
			if _, err := m.CallFunc(fn, nil, arg); err != nil {
				t.Fatal(err)
			}
			n := &eval.Native{Prog: prog}
			if _, err := comp.Funcs[i](n, []eval.Value{arg}); err != nil {
				t.Fatal(err)
			}
			if m.Steps() != n.Steps() {
				t.Errorf("%s over %d orders: compiled code charged %d steps, the interpreter %d", name, size, n.Steps(), m.Steps())
			}
			// The interpreter's smallest sufficient budget.
			lo, hi := int64(1), int64(1)<<40
			for lo < hi {
				mid := (lo + hi) / 2
				if _, err := interp(mid); err == nil {
					hi = mid
				} else {
					lo = mid + 1
				}
			}
			want, _ := interp(lo)
			got, err := compiled(lo)
			if err != nil || !eval.Equal(got, want) {
				t.Errorf("%s over %d orders with %d steps: compiled %v, %v; interpreted %v", name, size, lo, got, err, want)
			}
			if lo == 1 {
				continue
			}
			_, werr := interp(lo - 1)
			_, gerr := compiled(lo - 1)
			if gerr == nil || gerr.Error() != werr.Error() {
				t.Errorf("%s over %d orders with %d steps: compiled %v; interpreted %v", name, size, lo-1, gerr, werr)
			}
		}
	}
}
