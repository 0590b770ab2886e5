// This file implements a generator of random valid programs, with random
// comments and whitespace between their tokens, for round-trip tests that
// mutation fuzzing seldom reaches: mutated inputs are mostly syntax errors.

package format

import (
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/knhk/knhk/lang/syntax"
)

// gen builds one program as a token list. The token glue marks a place
// where no line break may go (between return and its value).
type gen struct {
	r    *rand.Rand
	toks []string
}

const glue = "\x00"

func (g *gen) t(toks ...string) { g.toks = append(g.toks, toks...) }

func (g *gen) pick(xs ...string) string { return xs[g.r.Intn(len(xs))] }

func (g *gen) name() string { return g.pick("a", "b", "x", "item", "region", "signal", "all") }

func (g *gen) list(n int, each func()) {
	for i := range n {
		if i > 0 {
			g.t(",")
		}
		each()
	}
	if n > 0 && g.r.Intn(4) == 0 {
		g.t(",")
	}
}

func (g *gen) typ(d int) {
	switch k := g.r.Intn(6); {
	case d <= 0 || k < 2:
		g.t(g.pick("int", "string", "float", "bool", "duration"))
	case k == 2:
		g.t("[")
		g.typ(d - 1)
		if g.r.Intn(2) == 0 {
			g.t(":")
			g.typ(d - 1)
		}
		g.t("]")
	case k == 3:
		g.t("{")
		g.list(g.r.Intn(4), func() { g.t(g.name(), ":"); g.typ(d - 1) })
		g.t("}")
	case k == 4:
		g.t("http", ".", "Response")
	default:
		g.typ(d - 1)
		g.t("?")
	}
}

func (g *gen) expr(d int) {
	if d <= 0 {
		g.t(g.pick("x", "1", "2.5", `"s"`, "200ms", "true", "none", "@2026-01-02T15:04:05Z"))
		return
	}
	switch g.r.Intn(12) {
	case 0:
		g.expr(d - 1)
		g.t(g.pick("+", "-", "*", "/", "%", "&&", "||", "??"))
		g.expr(d - 1)
	case 1:
		g.t("(")
		g.expr(d - 1)
		g.t(g.pick("==", "<", ">=", ".."))
		g.expr(d - 1)
		g.t(")")
	case 2:
		g.t(g.pick("-", "!"))
		g.expr(d - 1)
	case 3:
		g.t("f", "(")
		g.list(g.r.Intn(4), func() { g.expr(d - 1) })
		g.t(")")
	case 4:
		g.t("[")
		g.list(g.r.Intn(4), func() { g.expr(d - 1) })
		g.t("]")
	case 5:
		if g.r.Intn(3) == 0 {
			g.t("[", ":", "]")
			return
		}
		g.t("[")
		g.list(g.r.Intn(3)+1, func() { g.expr(d - 1); g.t(":"); g.expr(d - 1) })
		g.t("]")
	case 6:
		g.t("{")
		g.list(g.r.Intn(4), func() { g.t(g.name(), ":"); g.expr(d - 1) })
		g.t("}")
	case 7:
		g.t("map", "(", "xs", ",")
		if g.r.Intn(2) == 0 {
			g.t("v", "=>")
		} else {
			g.t("(", "v", ",", "w", ")", "=>")
		}
		g.expr(d - 1)
		g.t(")")
	case 8:
		g.t("o", ".", g.name(), "[")
		g.expr(d - 1)
		g.t("]")
	case 9:
		g.t("milestone", "m")
	default:
		g.expr(0)
	}
}

func (g *gen) clauses() {
	for range g.r.Intn(3) {
		g.t(g.pick("retry", "backoff", "timeout"))
		g.expr(0)
	}
}

func (g *gen) block(d int) {
	g.t("{")
	for range g.r.Intn(4) {
		g.stmt(d - 1)
	}
	g.t("}")
}

func (g *gen) call() { g.t("t", "(", "x", ")") }

func (g *gen) join() {
	if g.r.Intn(2) == 0 {
		g.t("join", g.pick("all", "any", "2"))
	}
}

func (g *gen) stmt(d int) {
	k := g.r.Intn(22)
	if d <= 0 {
		k = g.r.Intn(3)
	}
	switch k {
	case 0:
		g.t(g.pick("let", "var"), g.name())
		if g.r.Intn(3) == 0 {
			g.t(":")
			g.typ(2)
		}
		g.t("=")
		g.expr(2)
		g.clauses()
	case 1:
		g.call()
		g.clauses()
	case 2:
		g.t("return", glue)
		g.expr(2)
	case 3:
		g.t("guard")
		g.expr(1)
		g.t("else", "fail", `"m"`)
	case 4:
		g.t("parallel")
		g.block(d)
		g.join()
	case 5, 6:
		g.t(g.pick("choose", "multi"), "{")
		for range g.r.Intn(3) {
			g.t("when")
			g.expr(1)
			g.t("->")
			g.stmt(d - 1)
		}
		if g.r.Intn(2) == 0 {
			g.t("else", "->")
			g.stmt(d - 1)
		}
		g.t("}")
	case 7:
		g.t("if")
		g.expr(1)
		g.block(d)
		switch g.r.Intn(3) {
		case 0:
			g.t("else")
			g.block(d)
		case 1:
			g.t("else", "if")
			g.expr(1)
			g.block(d)
		}
	case 8:
		g.t("for", "v", "in", "xs")
		if g.r.Intn(2) == 0 {
			g.t("parallel", "limit", "4")
		}
		g.block(d)
		g.join()
	case 9:
		g.t("while")
		g.expr(1)
		g.block(d)
	case 10:
		g.t("select", "{")
		for range g.r.Intn(3) {
			switch g.r.Intn(3) {
			case 0:
				g.t("on", "signal", "S")
				if g.r.Intn(2) == 0 {
					g.t("(", "p", ":", "int", ")")
				}
			case 1:
				g.t("on", "timer", "1h")
			default:
				g.t("on", "done")
				g.call()
				g.t("as", "r")
			}
			g.t("->")
			g.stmt(d - 1)
		}
		g.t("}")
	case 11:
		g.t("cancel", g.pick("case", "task t", "region r"))
	case 12:
		g.t(g.pick("region", "critical", "milestone"), "r")
		g.block(d)
	case 13:
		g.t("interleave")
		g.block(d)
	case 14:
		g.t("flow", "{", "step", "s", "=")
		g.call()
		g.t("start", "->", "s", ",", "u")
		g.join()
		if g.r.Intn(2) == 0 {
			g.t("when")
			g.expr(1)
		}
		g.t("}")
	case 15:
		g.t("route", "learn", "r", "(")
		g.list(g.r.Intn(3), func() { g.expr(1) })
		g.t(")", "among", "{")
		g.list(g.r.Intn(3)+1, g.call)
		g.t("}")
		if g.r.Intn(2) == 0 {
			g.t("reward")
			g.expr(1)
		}
	case 16:
		g.t("hook", "h", "on", g.pick("start", "end", "complete t", "signal S"))
		if g.r.Intn(2) == 0 {
			g.t("when")
			g.expr(1)
		}
		g.t("->")
		g.stmt(d - 1)
	case 17:
		g.t("signal", "S", "(", "p", ":")
		g.typ(1)
		g.t(")", g.pick("transient", "persistent"))
	case 18:
		g.t("query", "q", "->")
		g.typ(1)
		g.t("=")
		g.expr(1)
	case 19:
		g.block(d)
	case 20:
		g.t(g.pick("x", "out [ i ]", "o . f"), "=")
		g.expr(2)
	default:
		g.t(g.pick("break", "continue"))
	}
}

func (g *gen) file() {
	g.t("package", "p")
	for range g.r.Intn(2) {
		g.t("import", `"std/http"`)
	}
	for range g.r.Intn(4) + 1 {
		switch g.r.Intn(5) {
		case 0:
			g.t("type", "T", "=")
			if g.r.Intn(4) == 0 {
				g.t("enum", "{")
				g.list(g.r.Intn(3)+1, func() { g.t(g.name()) })
				g.t("}")
			} else {
				g.typ(3)
			}
		case 1:
			g.t("fn", "f", "(", "a", ":", "int", ")", "->", "int", "=")
			g.expr(3)
		case 2:
			g.t("task", "t", "(", "x", ":")
			g.typ(1)
			g.t(")", g.pick(`exec "a" "b"`, `http POST "u"`, `std "s"`, "extern"))
			g.clauses()
		case 3:
			g.t("kernel", "k", "(", "a", ":", "[", "f32", "]", ")", "->", "[", "f32", "]")
			g.block(2)
		default:
			g.t("workflow", "W", "(", ")")
			g.block(4)
		}
	}
}

// text joins the tokens with random whitespace and comments.
func (g *gen) text() string {
	var b strings.Builder
	for i, tok := range g.toks {
		if tok == glue {
			continue
		}
		b.WriteString(tok)
		if i+1 < len(g.toks) && g.toks[i+1] == glue {
			b.WriteString(g.pick(" ", " /* c */ "))
			continue
		}
		b.WriteString(g.pick(" ", " ", " ", "\n", "\n\n\n", " /* c */ ", " // c\n", "\n// own\n", "\n\n/* own */\n\n"))
	}
	return b.String()
}

// TestRandomPrograms formats generated programs and checks the round trip.
func TestRandomPrograms(t *testing.T) {
	n := 3000
	if s := os.Getenv("KNHK_RANDOM_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	if testing.Short() {
		n = 300
	}
	parsed := 0
	for seed := range n {
		g := &gen{r: rand.New(rand.NewSource(int64(seed)))}
		g.file()
		src := g.text()
		f, diags := syntax.Parse("gen.knhk", []byte(src))
		if diags.HasErrors() {
			continue
		}
		parsed++
		checkParsed(t, fmt.Sprintf("seed %d", seed), f)
		if t.Failed() {
			t.Fatalf("seed %d:\n%s", seed, src)
		}
	}
	// The generator writes valid programs; if most do not parse, either it
	// or the parser has gone wrong.
	if parsed < n*9/10 {
		t.Errorf("only %d of %d generated programs parse", parsed, n)
	}
}
