// This file implements the test that every element of a lowered program
// points at source.

package compiler

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/knhk/knhk/compiler/ir"
)

// TestEverythingHasASpan lowers the examples and the golden inputs and
// checks that every instruction, terminator, transition, place, arc,
// variable and region carries a known source span inside its file.
func TestEverythingHasASpan(t *testing.T) {
	paths, _ := filepath.Glob("../examples/*.knhk")
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			prog := lowerFile(t, path, nil)
			for _, where := range unknownLocs(prog) {
				t.Error(where)
			}
		})
	}
}

// unknownLocs lists the elements of p without a usable location.
func unknownLocs(p *ir.Program) []string {
	var bad []string
	check := func(l ir.Loc, format string, args ...any) {
		ok := l.Known() && int(l.File) < len(p.Files) && int64(l.Span.End) <= p.Files[l.File].Size && l.Span.End >= l.Span.Start
		if !ok {
			bad = append(bad, fmt.Sprintf(format, args...)+fmt.Sprintf(": location %+v", l))
		}
	}
	for i, f := range p.Funcs {
		check(f.Loc, "func f%d %s", i, f.Name)
		for bi, b := range f.Blocks {
			for k, in := range b.Instrs {
				check(in.Loc, "func f%d %s b%d instruction %d (%s)", i, f.Name, bi, k, in.Op)
			}
			check(b.Term.Loc, "func f%d %s b%d terminator", i, f.Name, bi)
		}
	}
	for i, t := range p.Tasks {
		check(t.Loc, "task %d %s", i, t.Name)
	}
	for i, k := range p.Kernels {
		check(k.Loc, "kernel %d %s", i, k.Name)
	}
	for _, n := range p.Nets {
		check(n.Loc, "net %s", n.Name)
		for i, v := range n.Vars {
			check(v.Loc, "net %s var v%d %s", n.Name, i, v.Name)
		}
		for i, pl := range n.Places {
			check(pl.Loc, "net %s place p%d %s", n.Name, i, pl.Name)
		}
		for i, t := range n.Transitions {
			check(t.Loc, "net %s transition t%d %s", n.Name, i, t.Name)
			if t.Call != nil {
				check(t.Call.Loc, "net %s transition t%d call", n.Name, i)
			}
		}
		for i, a := range n.Arcs {
			check(a.Loc, "net %s arc %d", n.Name, i)
		}
		for i, r := range n.Regions {
			check(r.Loc, "net %s region r%d %s", n.Name, i, r.Name)
		}
		for _, s := range n.Signals {
			check(s.Loc, "net %s signal %s", n.Name, s.Name)
		}
	}
	return bad
}
