package compiler

import (
	"strings"
	"testing"
)

// TestConstantJoinCount checks that a join count the checker folds as a
// constant (1 + 1) lowers exactly like the literal: the compiler and the
// checker share check.ConstInt, so they cannot disagree.
func TestConstantJoinCount(t *testing.T) {
	src := func(count string) string {
		return "package j\n\ntask a() extern\ntask b() extern\ntask c() extern\n\nworkflow W() {\n  parallel {\n    a()\n    b()\n    c()\n  } join " + count + "\n}\n"
	}
	joinLine := func(text string) string {
		for _, l := range strings.Split(text, "\n") {
			if strings.Contains(l, "join partial") {
				l, _, _ = strings.Cut(l, "@")
				return strings.TrimSpace(l)
			}
		}
		return ""
	}
	lit := joinLine(lowerSource(t, src("2")).String())
	folded := joinLine(lowerSource(t, src("1 + 1")).String())
	if lit == "" || !strings.Contains(lit, "join partial 2") {
		t.Fatalf("join 2 lowered to %q", lit)
	}
	if folded != lit {
		t.Errorf("join 1 + 1 lowered to %q, join 2 to %q", folded, lit)
	}
}
