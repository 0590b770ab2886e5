// This file implements tests of the gate on the statements whose
// verdicts must follow the engine: a statement that ends the case in one
// branch of a parallel, and a cancel task from a sibling branch.

package compiler

import (
	"regexp"
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

// strandedBranch cancels the call before a second call of the same task,
// which strands its branch: the join all waits forever (line 11 is the
// cancel task).
const strandedBranch = gateTasks + `
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

// TestGateRejectsStrandedBranch keeps the gate honest: a cancel task
// that withdraws the call before a second call of the same task clears
// the second call's input (the engine does the same), so the join all
// waits forever; and a return in a branch does not excuse a branch that
// can complete without ending the case.
func TestGateRejectsStrandedBranch(t *testing.T) {
	src := strandedBranch
	ds := gate(t, src)
	if !ds.HasErrors() || !strings.Contains(ds[0].Message, "deadlock") {
		t.Errorf("want a deadlock, got %v", ds)
	}
}

// TestGateMessagesInSourceTerms: an unsound workflow is reported at the
// statement that causes it, in the words of the source (statements and
// lines), with none of the compiler's place or transition names.
func TestGateMessagesInSourceTerms(t *testing.T) {
	src := strandedBranch
	ds := gate(t, src)
	if len(ds) == 0 {
		t.Fatal("want a deadlock")
	}
	d := ds[0]
	if pos := d.File.Position(d.Span.Start); pos.Line != 11 {
		t.Errorf("points at line %d, want 11 (cancel task b)", pos.Line)
	}
	internal := regexp.MustCompile(`\b[a-z]+_[0-9]+\b`)
	for _, msg := range append([]string{d.Message}, relatedMessages(d)...) {
		if m := internal.FindString(msg); m != "" {
			t.Errorf("message names %s: %s", m, msg)
		}
	}
	for _, want := range []string{"`cancel task b` (line 11)", "the join of `parallel {` (line 8)"} {
		if !strings.Contains(d.Message, want) {
			t.Errorf("message lacks %q: %s", want, d.Message)
		}
	}
}

func relatedMessages(d *source.Diagnostic) []string {
	var out []string
	for _, r := range d.Related {
		out = append(out, r.Message)
	}
	return out
}
