// This file implements the checker benchmarks: a generated 100,000-line
// program, checked by this package and, as the baseline in the same run,
// an equivalent Go program by go/parser and go/types.

package check

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// genKNHK returns a KNHK program of about n lines: record types, tasks,
// and many fns and workflows with lets, conditions, loops and calls.
func genKNHK(n int) string {
	var sb strings.Builder
	sb.WriteString(`package big

type Item = { sku: string, qty: int, price: float }
type Order = { id: string, region: string, items: [Item] }
task reserve(items: [Item]) -> string exec "./bin/reserve"
task charge(amount: float) -> string http POST "http://127.0.0.1/charge" retry 3 timeout 5s
`)
	lines := 6
	for i := 0; lines < n; i++ {
		s := strconv.Itoa(i)
		sb.WriteString("fn total" + s + "(o: Order) -> float = sum(o.items, it => it.price * float(it.qty)) + " + s + ".0\n")
		sb.WriteString("workflow W" + s + "(o: Order) -> string {\n")
		sb.WriteString("  let amount = total" + s + "(o)\n")
		sb.WriteString("  let r = reserve(o.items) retry 3 backoff 200ms\n")
		sb.WriteString("  if amount > 1000.0 {\n")
		sb.WriteString("    let p = charge(amount * 2.0)\n")
		sb.WriteString("    return p + r\n")
		sb.WriteString("  }\n")
		sb.WriteString("  var k = 0\n")
		sb.WriteString("  for it in o.items { k = k + it.qty }\n")
		sb.WriteString("  guard k > 0 else fail \"empty\"\n")
		sb.WriteString("  return r + o.id\n")
		sb.WriteString("}\n")
		lines += 13
	}
	return sb.String()
}

// genGo returns the same program in Go.
func genGo(n int) string {
	var sb strings.Builder
	sb.WriteString(`package big

type Item struct { sku string; qty int; price float64 }
type Order struct { id string; region string; items []Item }
func reserve(items []Item) string { return "" }
func charge(amount float64) string { return "" }
`)
	lines := 6
	for i := 0; lines < n; i++ {
		s := strconv.Itoa(i)
		sb.WriteString("func total" + s + "(o Order) float64 { s := 0.0; for _, it := range o.items { s += it.price * float64(it.qty) }; return s + " + s + ".0 }\n")
		sb.WriteString("func W" + s + "(o Order) string {\n")
		sb.WriteString("  amount := total" + s + "(o)\n")
		sb.WriteString("  r := reserve(o.items)\n")
		sb.WriteString("  if amount > 1000.0 {\n")
		sb.WriteString("    p := charge(amount * 2.0)\n")
		sb.WriteString("    return p + r\n")
		sb.WriteString("  }\n")
		sb.WriteString("  k := 0\n")
		sb.WriteString("  for _, it := range o.items { k = k + it.qty }\n")
		sb.WriteString("  if !(k > 0) { panic(\"empty\") }\n")
		sb.WriteString("  return r + o.id\n")
		sb.WriteString("}\n")
		lines += 13
	}
	return sb.String()
}

const benchLines = 100_000

func goCheck(b *testing.B, src string) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "big.go", src, 0)
	if err != nil {
		b.Fatal(err)
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Defs: map[*ast.Ident]types.Object{}, Uses: map[*ast.Ident]types.Object{}}
	if _, err := (&types.Config{}).Check("big", fset, []*ast.File{f}, info); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkCheck measures the checker alone on a parsed 100,000-line
// program and reports lines/s next to go/parser+go/types on the same
// program in Go, and their ratio (>= 0.5 is the target).
func BenchmarkCheck(b *testing.B) {
	f, diags := syntax.Parse("big.knhk", []byte(genKNHK(benchLines)))
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	benchAgainstGo(b, func() source.Diagnostics {
		_, _, d := Check(f, nil)
		return d
	})
}

// BenchmarkParseAndCheck is BenchmarkCheck including the KNHK parser.
func BenchmarkParseAndCheck(b *testing.B) {
	src := []byte(genKNHK(benchLines))
	benchAgainstGo(b, func() source.Diagnostics {
		_, _, d := CheckSource("big.knhk", src, nil)
		return d
	})
}

// benchAgainstGo times run, which checks the generated program, against
// go/parser and go/types on a Go program of the same size, both in each
// iteration, and reports lines per second and their ratio.
func benchAgainstGo(b *testing.B, run func() source.Diagnostics) {
	gsrc := genGo(benchLines)
	goCheck(b, gsrc) // warm up
	var knhk, golang time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		d := run()
		knhk += time.Since(t0)
		if d.HasErrors() {
			b.Fatal(d.Error())
		}
		b.StopTimer()
		t1 := time.Now()
		goCheck(b, gsrc)
		golang += time.Since(t1)
		b.StartTimer()
	}
	reportRatio(b, knhk, golang)
}

func reportRatio(b *testing.B, knhk, golang time.Duration) {
	n := float64(b.N)
	kl := benchLines * n / knhk.Seconds()
	gl := benchLines * n / golang.Seconds()
	b.ReportMetric(kl, "lines/s")
	b.ReportMetric(gl, "go-lines/s")
	b.ReportMetric(kl/gl, "ratio")
}

// TestBenchProgramClean keeps the benchmark honest: the generated program
// must check without diagnostics, or the benchmark measures error paths.
func TestBenchProgramClean(t *testing.T) {
	_, info, d := CheckSource("big.knhk", []byte(genKNHK(500)), nil)
	if len(d) != 0 {
		t.Fatal(d.Format())
	}
	if len(info.Types) == 0 {
		t.Fatal("no types recorded")
	}
}
