// This file tests that integer division and remainder by a constant
// compile to Go's operators only where they cannot fail.

package golang_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/knhk/knhk/codegen/golang"
)

func TestDivConst(t *testing.T) {
	path := filepath.Join(t.TempDir(), "div.knhk")
	src := `package div

fn rem3(x: int) -> int = x % 3

fn div2(x: int) -> int = (x - 7) / 2

fn rem0(x: int) -> int = x % 0

fn divm1(x: int) -> int = x / -1

fn divx(x: int, y: int) -> int = x / y

workflow W(x: int) -> int {
  return rem3(x) + div2(x) + divx(x, 2)
}
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p, files := build(t, path)
	out, diags := golang.Generate(p, golang.Options{Pos: golang.LinePos(p, files)})
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	funcs := string(out["funcs.go"])
	for name, intOp := range map[string]bool{"rem3": false, "div2": false, "rem0": true, "divm1": true, "divx": true} {
		b := regexp.MustCompile(`(?s)\nfunc f\d+_` + name + `\(.*?\n}\n`).FindString(funcs)
		if b == "" {
			t.Fatalf("no function %s", name)
		}
		if got := regexp.MustCompile(`eval\.IntOp\(ir\.Bin(Div|Rem)`).MatchString(b); got != intOp {
			t.Errorf("%s divides with eval.IntOp: %v, want %v:\n%s", name, got, intOp, b)
		}
	}
}
