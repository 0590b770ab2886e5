// This file implements the nesting test: every construct nested in every
// other, as the first statement of a workflow and after another, lowers
// to a program that verifies and that the soundness analysis accepts.

package compiler

import (
	"fmt"
	"strings"
	"testing"

	"github.com/knhk/knhk/lang/check"
)

// nestHeader declares what the snippets use.
const nestHeader = `package nest

task a(n: int) -> bool exec "./a"
task b(n: int) exec "./b"

workflow Child(n: int) -> bool {
  let r = a(n)
  return r
}
`

// nestSnippets are statements with a hole, BODY, where another snippet
// goes.
var nestSnippets = map[string]string{
	"block":      "{ BODY }",
	"if":         "if n > 1 { BODY } else { b(n) }",
	"choose":     "choose { when n > 1 -> { BODY } when n > 2 -> b(n) }",
	"multi":      "multi { when n > 1 -> { BODY } when n > 2 -> b(n) }",
	"parallel":   "parallel { { BODY } b(n) } join all",
	"joinany":    "parallel { { BODY } b(n) } join any",
	"while":      "while n > 5 { BODY }",
	"for":        "for k in 0..n { BODY }",
	"forpar":     "for k in [1, 2] parallel limit 2 { BODY } join all",
	"select":     "select { on signal S -> { BODY } on timer 1h -> b(n) on done a(n) as ok -> b(n) }",
	"region":     "region R { BODY }",
	"critical":   "critical C { BODY }",
	"interleave": "interleave { { BODY } b(n) }",
	"milestone":  "milestone M { BODY }",
	"flow":       "flow { step s = Child(n) step t = b(n) start -> s  s -> t when s  s -> end when !s  t -> end }",
	"route":      "route learn pick(n) among { b(n), b(n + 1) } reward 1.0",
	"guard":      "guard n > 0 else fail \"bad\"",
	"call":       "let x = a(n) retry 2 timeout 1s",
}

// soundnessLimits are pairs whose nets verify but that the soundness
// analysis rejects, with the reason. They are checked for verification
// only.
var soundnessLimits = map[string]string{
	// Critical sections are not reentrant: a section inside a section of
	// the same name waits for itself. The deadlock is real.
	"critical/critical": "same-name sections deadlock",
	// The OR join's structural "can a token still reach this input" test
	// walks back through mutex places, so a branch waiting for a mutex
	// held inside an arm counts as one that can still arrive (the join
	// waits forever), and a critical section or interleaving inside an
	// arm looks like a path from the free mutex into the arm.
	"multi/critical":   "OR join and mutex places",
	"multi/interleave": "OR join and mutex places",
	"interleave/multi": "OR join and mutex places",
	// A guard failing in one arm does not keep the OR join from firing
	// for the other arms, so the case can reach its end with the fail
	// still pending.
	"multi/guard": "OR join and a pending fail",
}

func TestNesting(t *testing.T) {
	lowered := 0
	for outerName, outer := range nestSnippets {
		for innerName, inner := range nestSnippets {
			if !strings.Contains(outer, "BODY") {
				continue
			}
			body := strings.ReplaceAll(inner, "BODY", "b(n)")
			// Names declared once per workflow must stay unique.
			if outerName == innerName && (outerName == "region" || outerName == "milestone" || outerName == "select") {
				continue
			}
			stmt := strings.ReplaceAll(outer, "BODY", body)
			for i, wrap := range []string{"%s", "b(n)\n  %s\n  b(n)"} {
				name := fmt.Sprintf("%s/%s/%d", outerName, innerName, i)
				src := nestHeader + "\nworkflow W(n: int) {\n  " + fmt.Sprintf(wrap, stmt) + "\n}\n"
				pkg, info, diags := check.CheckSource("nest.knhk", []byte(src), nil)
				if diags.HasErrors() {
					// Some pairs are not valid KNHK (break placement and
					// the like); only what checks must lower.
					continue
				}
				lowered++
				prog, ld := Lower(pkg, info)
				if ld.HasErrors() {
					t.Errorf("%s: lowering:\n%s\n%s", name, diagText(ld), src)
					continue
				}
				if err := prog.Verify(); err != nil {
					t.Errorf("%s: does not verify: %v\n%s", name, err, src)
					continue
				}
				if _, known := soundnessLimits[outerName+"/"+innerName]; known {
					continue
				}
				reports, idle := Soundness(prog, nil)
				for _, r := range reports {
					for _, p := range r.Problems {
						t.Errorf("%s: %s: %s\n%s", name, r.Net, p.Message, src)
					}
				}
				for _, p := range idle {
					t.Errorf("%s: %s\n%s", name, p.Message, src)
				}
			}
		}
	}
	// 18 snippets, 17 with a hole, 2 positions: most pairs check.
	t.Logf("%d nestings lowered", lowered)
	if lowered < 400 {
		t.Errorf("only %d nestings checked clean; the snippets have gone stale", lowered)
	}
}
