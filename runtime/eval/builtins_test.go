// This file tests every builtin, conversion and duration and time
// operator through KNHK source: checked, lowered and evaluated, so that
// the checker's typing rules and the machine agree.

package eval

import (
	"math"
	"strconv"
	"testing"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/lang/check"
)

const builtinsSrc = `package b

type Level = enum { low, mid, high }
type P = { name: string, score: int, tags: [string] }

fn n_len(xs: [int], m: [string: int], s: string, b: bytes) -> int = len(xs) * 1000 + len(m) * 100 + len(s) * 10 + len(b)
fn s_plain(xs: [int]) -> int = sum(xs)
fn s_float(xs: [float]) -> float = sum(xs)
fn s_dur(ds: [duration]) -> duration = sum(ds)
fn s_lam(ps: [P]) -> int = sum(ps, p => p.score)
fn names(ps: [P]) -> [string] = map(ps, p => p.name)
fn high(ps: [P], min: int) -> [string] = map(filter(ps, p => p.score >= min), p => p.name)
fn tagged(ps: [P], t: string) -> bool = any(ps, p => contains(p.tags, t))
fn all_pos(xs: [int]) -> bool = all(xs, x => x > 0)
fn ks(m: [string: int]) -> [string] = keys(m)
fn vs(m: [string: int]) -> [int] = values(m)
fn has_key(m: [string: int], k: string) -> bool = contains(m, k)
fn has_sub(s: string, sub: string) -> bool = contains(s, sub)
fn lo(a: int, b: int) -> int = min(a, b)
fn hi_d(a: duration, b: duration) -> duration = max(a, b)
fn lo_t(a: time, b: time) -> time = min(a, b)
fn ab(x: int) -> int = abs(x)
fn ab_d(d: duration) -> duration = abs(d)
fn ab_f(x: float) -> float = abs(x)
fn e(x: float) -> float = exp(x)
fn sq(x: float) -> float = sqrt(x)
fn ln(x: float) -> float = log(x)
fn minutes(d: duration) -> int = int(d / 1m)
fn hours(d: duration) -> float = d / 1h
fn later(t: time, d: duration) -> time = t + d * 2
fn gap(a: time, b: time) -> duration = b - a
fn deadline() -> time = @2026-11-27T10:00:00Z + 90m
fn half(d: duration) -> duration = d / 2
fn fmt(l: Level, d: duration, x: float, b: bool) -> string = string(l) + " " + string(d) + " " + string(x) + " " + string(b)
fn raw(s: string) -> bytes = bytes(s)
fn trunc(x: float) -> int = int(x)
fn cat(a: [int], b: [int]) -> [int] = a + b
fn top() -> Level = Level.high
fn first(xs: [int]) -> int = xs[0]
fn lookup(m: [string: int], k: string) -> int = m[k]
fn pick(a: int?, b: int) -> int = a ?? b
fn neg(d: duration) -> duration = -d
`

func TestBuiltinsFromSource(t *testing.T) {
	pkg, info, diags := check.CheckSource("b.knhk", []byte(builtinsSrc), nil)
	if diags.HasErrors() {
		t.Fatalf("does not check:\n%s", diags.Format())
	}
	p, ld := compiler.Build(pkg, info) // the gate of knhk run
	if ld.HasErrors() {
		t.Fatalf("does not pass the gate:\n%s", ld.Format())
	}
	ps := `[{"name":"a","score":3,"tags":["x"]},{"name":"b","score":9,"tags":["y","z"]},{"name":"c","score":-2,"tags":[]}]`
	m := `{"b":2,"a":1,"c":3}`
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	cases := []struct {
		fn   string
		args []string
		want string
	}{
		{"n_len", []string{`[1,2]`, m, `"héllo"`, `"AAEC"`}, "2363"},
		{"s_plain", []string{`[1,2,39]`}, "42"},
		{"s_plain", []string{`[]`}, "0"},
		{"s_float", []string{`[0.5,0.25]`}, "0.75"},
		{"s_dur", []string{`["1h","30m",1000]`}, "1h30m0.000001s"},
		{"s_lam", []string{ps}, "10"},
		{"names", []string{ps}, `["a", "b", "c"]`},
		{"high", []string{ps, "3"}, `["a", "b"]`},
		{"tagged", []string{ps, `"z"`}, "true"},
		{"tagged", []string{ps, `"w"`}, "false"},
		{"all_pos", []string{`[1,2]`}, "true"},
		{"all_pos", []string{`[1,0]`}, "false"},
		{"all_pos", []string{`[]`}, "true"},
		{"ks", []string{m}, `["a", "b", "c"]`},
		{"vs", []string{m}, `[1, 2, 3]`},
		{"has_key", []string{m, `"b"`}, "true"},
		{"has_key", []string{m, `"d"`}, "false"},
		{"has_sub", []string{`"workflow"`, `"kflo"`}, "true"},
		{"has_sub", []string{`"workflow"`, `"flows"`}, "false"},
		{"lo", []string{"3", "-4"}, "-4"},
		{"hi_d", []string{`"1s"`, `"900ms"`}, "1s"},
		{"lo_t", []string{`"2026-11-27T10:00:00Z"`, `"2026-11-27T11:00:00+02:00"`}, "@2026-11-27T09:00:00Z"},
		{"ab", []string{"-5"}, "5"},
		{"ab_d", []string{`"-2m"`}, "2m0s"},
		{"ab_f", []string{"-0.5"}, "0.5"},
		{"e", []string{"1.5"}, f(math.Exp(1.5))},
		{"sq", []string{"2"}, f(math.Sqrt(2))},
		{"ln", []string{"10"}, f(math.Log(10))},
		{"sq", []string{"-1"}, "NaN"},
		{"minutes", []string{`"2h30m59s"`}, "150"},
		{"hours", []string{`"1h45m"`}, "1.75"},
		{"later", []string{`"2026-11-27T10:00:00Z"`, `"45m"`}, "@2026-11-27T11:30:00Z"},
		{"gap", []string{`"2026-11-27T10:00:00Z"`, `"2026-11-28T10:00:01Z"`}, "24h0m1s"},
		{"deadline", nil, "@2026-11-27T11:30:00Z"},
		{"half", []string{`"3s"`}, "1.5s"},
		{"fmt", []string{`"mid"`, `"90s"`, "2.50", "true"}, `"mid 1m30s 2.5 true"`},
		{"raw", []string{`"hi"`}, `b64"aGk="`},
		{"trunc", []string{"-7.9"}, "-7"},
		{"cat", []string{"[1]", "[2,3]"}, "[1, 2, 3]"},
		{"top", nil, "high"},
		{"first", []string{"[5]"}, "5"},
		{"lookup", []string{m, `"c"`}, "3"},
		{"pick", []string{"null", "8"}, "8"},
		{"pick", []string{"1", "8"}, "1"},
		{"neg", []string{`"5s"`}, "-5s"},
	}
	for _, c := range cases {
		got, err := callJSON(t, p, c.fn, nil, c.args...)
		if err != nil || got.String() != c.want {
			t.Errorf("%s(%v) = %v, %v; want %s", c.fn, c.args, got, err, c.want)
		}
	}
	// The failures are runtime errors at the failing expression.
	fails := []struct {
		fn   string
		args []string
		msg  string
		text string // the source the span covers
	}{
		{"first", []string{"[]"}, "index 0 out of range [0:0]", "xs[0]"},
		{"lookup", []string{m, `"zz"`}, `key "zz" not in map`, "m[k]"},
		{"trunc", []string{"1e300"}, "cannot convert 1e+300 to int: out of range", "int(x)"},
		{"ab", []string{"-9223372036854775808"}, "integer overflow", "abs(x)"},
		{"half", []string{`"-2562047h47m16.854775808s"`}, "", ""},
	}
	for _, c := range fails {
		_, err := callJSON(t, p, c.fn, nil, c.args...)
		if c.msg == "" {
			if err != nil {
				t.Errorf("%s: %v", c.fn, err)
			}
			continue
		}
		e := evalErr(t, err)
		text := builtinsSrc[e.Loc.Span.Start:e.Loc.Span.End]
		if e.Msg != c.msg || text != c.text {
			t.Errorf("%s: %q at %q; want %q at %q", c.fn, e.Msg, text, c.msg, c.text)
		}
	}
}
