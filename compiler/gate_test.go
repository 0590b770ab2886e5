// This file implements tests of the gate on the statements whose
// verdicts must follow the engine: a statement that ends the case in one
// branch of a parallel, and a cancel task from a sibling branch.

package compiler

import (
	"strings"
	"testing"

	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
)

// gate checks src and passes it through [Build].
func gate(t *testing.T, src string) source.Diagnostics {
	t.Helper()
	pkg, info, diags := check.CheckSource("in.knhk", []byte(src), &check.Config{})
	if diags.HasErrors() {
		t.Fatalf("does not check: %v", diags)
	}
	_, ds := Build(pkg, info)
	return ds
}

const gateTasks = `package p

task a() extern
task b() extern
task c() extern
`

// TestGateAcceptsEndingBranch: return, fail and cancel case in one branch
// of a parallel end the case and withdraw the other branches; whichever
// of the case's ends comes first wins, and nothing is left behind.
func TestGateAcceptsEndingBranch(t *testing.T) {
	for name, branch := range map[string]string{
		"return":      `return "early"`,
		"fail":        `fail "no"`,
		"cancel case": `cancel case`,
		"if fail": `if x {
        fail "no"
      }`,
	} {
		t.Run(name, func(t *testing.T) {
			ret, last := " -> string", `  return "late"`
			if !strings.HasPrefix(branch, "return") {
				ret, last = "", ""
			}
			src := gateTasks + `
workflow W(x: bool)` + ret + ` {
  parallel {
    {
      a()
      ` + branch + `
    }
    b()
  }
  c()
` + last + `
}
`
			if ds := gate(t, src); len(ds) > 0 {
				t.Errorf("want no diagnostics, got %v", ds)
			}
		})
	}
}

// TestGateAcceptsCancelTaskOfSibling: cancel task b withdraws a running b
// and its branch goes on to the join, so the join all completes.
func TestGateAcceptsCancelTaskOfSibling(t *testing.T) {
	for name, body := range map[string]string{
		"before": "{\n      a()\n      cancel task b\n    }\n    b()",
		"after":  "b()\n    {\n      a()\n      cancel task b\n    }",
	} {
		t.Run(name, func(t *testing.T) {
			src := gateTasks + `
workflow W() {
  parallel {
    ` + body + `
  } join all
  c()
}
`
			if ds := gate(t, src); len(ds) > 0 {
				t.Errorf("want no diagnostics, got %v", ds)
			}
		})
	}
}

// TestGateRejectsStrandedBranch keeps the gate honest: a cancel task
// that withdraws the call before a second call of the same task clears
// the second call's input (the engine does the same), so the join all
// waits forever; and a return in a branch does not excuse a branch that
// can complete without ending the case.
func TestGateRejectsStrandedBranch(t *testing.T) {
	src := gateTasks + `
workflow W() {
  parallel {
    {
      a()
      cancel task b
    }
    {
      b()
      b()
    }
  } join all
  c()
}
`
	ds := gate(t, src)
	if !ds.HasErrors() || !strings.Contains(ds[0].Message, "deadlock") {
		t.Errorf("want a deadlock, got %v", ds)
	}
}
