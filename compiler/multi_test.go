// This file tests the lowering of a parallel for's join and more on
// clauses (multi.go), and that no call of a workflow chooses among its
// outputs (callTrans).

package compiler

import (
	"path/filepath"
	"testing"

	"github.com/knhk/knhk/compiler/ir"
)

const multiSrc = `package m

task work(n: int) extern

workflow W(xs: [int], need: int) {
  signal More(n: int)
  for x in xs parallel {
    work(x)
  }
  for x in xs parallel {
    work(x)
  } join 2 keep
  for x in xs parallel more on More {
    work(x)
  } join need keep
  for x in xs parallel {
    for y in [x] parallel more on More {
      work(y)
    } join any
  }
}
`

func TestMultiClauses(t *testing.T) {
	prog := lowerSource(t, multiSrc)
	var root *ir.Net
	multis := map[string]*ir.Transition{}
	for _, n := range prog.Nets {
		if n.Name == "W" {
			root = n
		}
		for _, tr := range n.Transitions {
			if tr.Kind == ir.TMulti {
				multis[n.Name+"/"+tr.Name] = tr
			}
		}
	}
	if root == nil || len(multis) != 5 {
		t.Fatalf("want W and 5 multiple-instance transitions, got %v", multis)
	}
	quorumReads := func(tr *ir.Transition) (constant bool) {
		f := prog.Funcs[tr.Quorum]
		for _, b := range f.Blocks {
			for _, in := range b.Instrs {
				if in.Op == ir.OpVar {
					return false
				}
			}
		}
		return true
	}
	for _, c := range []struct {
		key      string
		quorum   bool // has a quorum
		constant bool // the quorum is a constant
		keep     bool
		more     string
	}{
		{"W/for_7", false, false, false, ""},
		{"W/for_10", true, true, true, ""},
		{"W/for_13", true, false, true, "More"},
		{"W/for_16", false, false, false, ""},
		{"W.for_16/for_17", true, true, false, "More"},
	} {
		tr := multis[c.key]
		if tr == nil {
			t.Errorf("%s: no such transition among %v", c.key, multis)
			continue
		}
		if (tr.Quorum != ir.NoFunc) != c.quorum || tr.Keep != c.keep || tr.Label != c.more {
			t.Errorf("%s: quorum %v keep %v more %q, want quorum %v keep %v more %q", c.key, tr.Quorum, tr.Keep, tr.Label, c.quorum, c.keep, c.more)
		}
		if c.quorum && quorumReads(tr) != c.constant {
			t.Errorf("%s: quorum constant %v, want %v", c.key, !c.constant, c.constant)
		}
	}
	// The nested loop's net declares the signal it adds instances on.
	for _, n := range prog.Nets {
		if n.Name != "W.for_16" {
			continue
		}
		if len(n.Signals) != 1 || n.Signals[0].Name != "More" {
			t.Errorf("the body net declares %v, want More", n.Signals)
		}
	}
}

// TestCallOutputsUnguarded checks that the outputs of a workflow call
// and of multiple instances are never guarded: the engine takes them all
// when the children complete. A flow step calling a workflow with
// conditional arcs chooses in a routing transition after the call.
func TestCallOutputsUnguarded(t *testing.T) {
	check := func(t *testing.T, prog *ir.Program) {
		for _, n := range prog.Nets {
			for ti, tr := range n.Transitions {
				if tr.Kind != ir.TWorkflow && tr.Kind != ir.TMulti {
					continue
				}
				_, outs := n.ArcsOf(int32(ti))
				for _, a := range outs {
					if a.Guard != ir.NoFunc || tr.Split != ir.SplitAnd {
						t.Errorf("%s: %s %s has a %s split with guarded outputs", n.Name, tr.Kind, tr.Name, tr.Split)
					}
				}
			}
		}
	}
	t.Run("flow", func(t *testing.T) {
		prog := lowerSource(t, `package f

task a() extern

workflow Sub(n: int) -> int {
  return n + 1
}

workflow Steps(n: int) {
  flow {
    step s = Sub(n)
    step big = a()
    step small = a()
    start -> s
    s -> big when s > 1
    s -> small
    big -> end
    small -> end
  }
}
`)
		check(t, prog)
		// The choice is made after the call, by a guarded split.
		found := false
		for _, n := range prog.Nets {
			for ti, tr := range n.Transitions {
				_, outs := n.ArcsOf(int32(ti))
				found = found || tr.Kind == ir.TNop && tr.Split == ir.SplitXor && len(outs) == 2 && outs[0].Guard != ir.NoFunc
			}
		}
		if !found {
			t.Error("no routing transition chooses after the call")
		}
	})
	paths, _ := filepath.Glob("../examples/*.knhk")
	pats, _ := filepath.Glob("../testdata/patterns/*.knhk")
	for _, path := range append(paths, pats...) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			check(t, lowerFile(t, path, nil))
		})
	}
}
