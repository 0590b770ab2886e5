// This file tests that integer division and remainder by a constant
// compile to Go's operators only where they cannot fail.

package golang_test

import (
	"regexp"
	"testing"
)

func TestDivConst(t *testing.T) {
	funcs := generatedFuncs(t, "div.knhk", `package div

fn rem3(x: int) -> int = x % 3

fn div2(x: int) -> int = (x - 7) / 2

fn rem0(x: int) -> int = x % 0

fn divm1(x: int) -> int = x / -1

fn divx(x: int, y: int) -> int = x / y

workflow W(x: int) -> int {
  return rem3(x) + div2(x) + divx(x, 2)
}
`)
	for name, intOp := range map[string]bool{"rem3": false, "div2": false, "rem0": true, "divm1": true, "divx": true} {
		b := funcBody(t, funcs, name)
		if got := regexp.MustCompile(`eval\.IntOp\(ir\.Bin(Div|Rem)`).MatchString(b); got != intOp {
			t.Errorf("%s divides with eval.IntOp: %v, want %v:\n%s", name, got, intOp, b)
		}
	}
}
