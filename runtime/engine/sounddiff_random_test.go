// This file runs the differential test of the explorer and the engine
// (sounddiff_test.go) on random programs: nested parallels with every
// kind of join, choices, loops, deferred choices, regions with their
// cancellation, cancel task, critical sections, parallel for loops,
// sub-workflows, and return, fail and cancel case in branches, which are
// the constructs whose semantics the two must share.

package engine

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/lang/check"
)

// progGen writes one random workflow.
type progGen struct {
	r       *rand.Rand
	sb      strings.Builder
	vars    int
	regions int
	indent  int
}

func (g *progGen) line(format string, args ...any) {
	g.sb.WriteString(strings.Repeat("  ", g.indent))
	fmt.Fprintf(&g.sb, format, args...)
	g.sb.WriteByte('\n')
}

func (g *progGen) task() string { return [...]string{"a", "b", "c"}[g.r.IntN(3)] }

// block writes a braced block of 1 or 2 statements, the last of which may
// end the case when ending is true.
func (g *progGen) block(d int, ending bool) {
	g.sb.WriteString(strings.Repeat("  ", g.indent) + "{\n")
	g.indent++
	g.stmts(d, ending)
	g.indent--
	g.line("}")
}

// body writes, one level in, the 1 or 2 statements of a compound
// statement at depth d.
func (g *progGen) body(d int) {
	g.indent++
	g.stmts(d-1, false)
	g.indent--
}

// fresh returns the name of a new variable.
func (g *progGen) fresh() string {
	g.vars++
	return fmt.Sprintf("v%d", g.vars)
}

func (g *progGen) stmts(d int, ending bool) {
	for i, n := 0, 1+g.r.IntN(2); i < n; i++ {
		g.stmt(d)
	}
	if ending && g.r.IntN(5) == 0 {
		g.line("%s", [...]string{"return", `fail "no"`, "cancel case"}[g.r.IntN(3)])
	}
}

// stmt writes one statement nested at most d deep.
func (g *progGen) stmt(d int) {
	k := g.r.IntN(12)
	if d <= 0 {
		k = 0
	}
	switch k {
	case 0, 1:
		g.line("%s()", g.task())
	case 2, 3:
		n := 2 + g.r.IntN(2)
		g.line("parallel {")
		g.indent++
		for i := 0; i < n; i++ {
			g.block(d-1, true)
		}
		g.indent--
		join := [...]string{"", " join all", " join any", " join any keep", fmt.Sprintf(" join %d", 1+g.r.IntN(n))}[g.r.IntN(5)]
		g.line("}%s", join)
	case 4:
		v := g.fresh()
		g.line("let %s = ok()", v)
		g.line("if %s {", v)
		g.body(d)
		g.line("} else {")
		g.body(d)
		g.line("}")
	case 5:
		v := g.fresh()
		g.line("var %s = true", v)
		g.line("while %s {", v)
		g.indent++
		g.stmts(d-1, false)
		g.line("let %s_next = ok()", v)
		g.line("%s = %s_next", v, v)
		g.indent--
		g.line("}")
	case 6:
		g.line("select {")
		g.indent++
		g.line("on signal S -> %s()", g.task())
		g.line("on timer 1h -> {")
		g.body(d)
		g.line("}")
		g.indent--
		g.line("}")
	case 7:
		g.regions++
		r := fmt.Sprintf("R%d", g.regions)
		g.line("parallel {")
		g.indent++
		g.line("region %s {", r)
		g.body(d)
		g.line("}")
		g.line("{")
		g.indent++
		g.line("%s()", g.task())
		g.line("cancel region %s", r)
		g.indent--
		g.line("}")
		g.indent--
		g.line("}")
	case 9:
		// Critical sections of one name exclude each other.
		g.line("parallel {")
		g.indent++
		for i := 0; i < 2; i++ {
			g.line("critical site {")
			g.body(d)
			g.line("}")
		}
		g.indent--
		g.line("}")
	case 10:
		g.line("for x in [1, 2] parallel {")
		g.body(d)
		g.line("}%s", [...]string{"", " join any", " join 1"}[g.r.IntN(3)])
	case 11:
		g.line("Sub()")
	case 8:
		g.line("parallel {")
		g.indent++
		g.block(d-1, true)
		g.line("{")
		g.indent++
		g.line("%s()", g.task())
		g.line("cancel task %s", g.task())
		g.indent--
		g.line("}")
		g.indent--
		g.line("}")
	}
}

// program returns a random program of one workflow.
func (g *progGen) program() string {
	g.sb.Reset()
	g.sb.WriteString("package r\n\ntask a() extern\ntask b() extern\ntask c() extern\ntask ok() -> bool extern\n\nworkflow W() {\n")
	g.indent = 1
	g.line("signal S")
	g.stmts(2+g.r.IntN(2), false)
	g.sb.WriteString("}\n\nworkflow Sub() {\n")
	g.indent = 1
	g.stmts(1, false)
	g.sb.WriteString("}\n")
	return g.sb.String()
}

// TestSoundMatchesEngineRandom runs the differential test on random
// programs; those that do not check or lower (the generator is not
// type-directed everywhere) are counted and skipped.
func TestSoundMatchesEngineRandom(t *testing.T) {
	n := 200
	if testing.Short() || raceEnabled {
		n = 40
	}
	g := &progGen{r: rand.New(rand.NewPCG(8, 1))}
	var st diffStats
	bad := 0
	for i := 0; i < n; i++ {
		src := g.program()
		pkg, info, diags := check.CheckSource("r.knhk", []byte(src), &check.Config{})
		if diags.HasErrors() {
			bad++
			if bad <= 3 {
				t.Logf("program %d does not check: %v\n%s", i, diags.Err(), src)
			}
			continue
		}
		b, _ := compiler.Gate(pkg, info, nil)
		if b.Program == nil {
			bad++
			continue
		}
		t.Run(fmt.Sprintf("p%03d", i), func(t *testing.T) {
			diffProgram(t, "r.knhk", b.Program, &st)
			if t.Failed() {
				t.Logf("the program:\n%s", src)
			}
		})
	}
	t.Logf("%d random workflows compared (%d engine markings, %d model markings; %d in one direction only), %d too large, %d did not compile", st.nets, st.engineStates, st.modelStates, st.oneWay, st.skipped, bad)
	if st.nets < n/2 {
		t.Errorf("only %d of %d random programs compared", st.nets, n)
	}
}
