// This file tests the JSON boundary: decoding against IR types with
// errors that name the path and the types, and encoding back.

package eval

import (
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler/ir"
)

// jsonProgram has the types of examples/orders.knhk's Order, lowered by
// the compiler, plus one record with every scalar kind.
func jsonTypes(t testing.TB) (p *ir.Program, order, all ir.TypeID) {
	p = lowerFile(t, ordersFile)
	order = p.Nets[0].Vars[0].Type
	all = -1
	for i := range p.Types {
		if p.Types[i].Name == "Everything" {
			all = ir.FirstComposite + ir.TypeID(i)
		}
	}
	if all < 0 {
		p2 := *p
		p2.Types = append([]ir.Type(nil), p.Types...)
		p = &p2
		lvl := p.EnumOf("Level", "low", "high")
		all = p.RecordOf("Everything",
			ir.Field{Name: "b", Type: ir.Bool}, ir.Field{Name: "by", Type: ir.Bytes},
			ir.Field{Name: "d", Type: ir.Duration}, ir.Field{Name: "e", Type: lvl},
			ir.Field{Name: "f", Type: ir.Float}, ir.Field{Name: "f32", Type: ir.F32},
			ir.Field{Name: "i", Type: ir.Int}, ir.Field{Name: "i32", Type: ir.I32},
			ir.Field{Name: "m", Type: p.MapOf(ir.Int, ir.String)}, ir.Field{Name: "me", Type: p.MapOf(lvl, ir.Bool)},
			ir.Field{Name: "o", Type: p.OptionalOf(ir.Time)}, ir.Field{Name: "s", Type: ir.String},
			ir.Field{Name: "t", Type: ir.Time}, ir.Field{Name: "u32", Type: ir.U32})
	}
	return p, order, all
}

const everything = `{"b":true,"by":"AP8=","d":"1h30m","e":"high","f":1.5,"f32":0.1,"i":-7,"i32":2147483647,` +
	`"m":{"10":"ten","2":"two"},"me":{"low":true},"o":null,"s":"é\"\n","t":"2026-11-27T10:00:00.5+01:00","u32":4294967295}`

func TestJSONRoundTrip(t *testing.T) {
	p, order, all := jsonTypes(t)
	v, err := FromJSONNamed(p, all, "x", []byte(everything))
	if err != nil {
		t.Fatal(err)
	}
	want := `{ b: true, by: b64"AP8=", d: 1h30m0s, e: high, f: 1.5, f32: 0.1, i: -7, i32: 2147483647, m: [2: "two", 10: "ten"], ` +
		`me: [low: true], o: none, s: "é\"\n", t: @2026-11-27T09:00:00.5Z, u32: 4294967295 }`
	if v.String() != want {
		t.Errorf("decoded\n%s\nwant\n%s", v, want)
	}
	out, err := ToJSON(p, v, all)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := `{"b":true,"by":"AP8=","d":"1h30m0s","e":"high","f":1.5,"f32":0.1,"i":-7,"i32":2147483647,` +
		`"m":{"2":"two","10":"ten"},"me":{"low":true},"o":null,"s":"é\"\n","t":"2026-11-27T09:00:00.5Z","u32":4294967295}`
	if string(out) != wantJSON {
		t.Errorf("encoded\n%s\nwant\n%s", out, wantJSON)
	}
	back, err := FromJSON(p, all, out)
	if err != nil || !Equal(back, v) {
		t.Errorf("round trip: %v, %v", back, err)
	}
	// An order through the compiler's own types.
	o, err := FromJSONNamed(p, order, "order", []byte(order0))
	if err != nil {
		t.Fatal(err)
	}
	out, err = ToJSON(p, o, order)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := FromJSON(p, order, out); err != nil || !Equal(back, o) {
		t.Errorf("order round trip: %s: %v", out, err)
	}
}

var order0 = order(`"VIP15"`)

func TestJSONErrors(t *testing.T) {
	p, order, all := jsonTypes(t)
	withItem := func(item string) string {
		return `{"id":"o1","customer":` + customer + `,"items":[{"sku":"a","qty":1,"price":1},{"sku":"b","qty":1,"price":1},` + item + `]}`
	}
	cases := []struct {
		t    ir.TypeID
		in   string
		want string
	}{
		{order, withItem(`{"sku":"c","qty":"x","price":1}`), `order.items[2].qty: expected int, found string "x"`},
		{order, withItem(`{"sku":"c","qty":1.5,"price":1}`), `order.items[2].qty: expected int, found number 1.5 with a fraction`},
		{order, withItem(`{"sku":"c","qty":1e30,"price":1}`), `order.items[2].qty: number 1e30 out of range for int`},
		{order, withItem(`{"sku":"c","price":1}`), `order.items[2]: missing field qty of type int`},
		{order, withItem(`{"sku":"c","qty":1,"price":1,"colour":"red"}`), `order.items[2]: unknown field "colour" in Item`},
		{order, withItem(`{"sku":null,"qty":1,"price":1}`), `order.items[2].sku: expected string, found null`},
		{order, withItem(`[]`), `order.items[2]: expected Item, found array`},
		{order, `{"id":"o1","customer":` + customer + `,"items":{}}`, `order.items: expected [Item], found object`},
		{order, `{"id":"o1","items":[]}`, `order: missing field customer of type Customer`},
		{order, `{"id":"o1","customer":` + customer + `,"items":[],"coupon":5}`, `order.coupon: expected string, found number 5`},
		{order, `{"id":"o1",`, `order: invalid JSON: unexpected EOF`},
		{order, `{} {}`, `order: invalid JSON: data after the value`},
		{ir.Int, `1.0`, ``},
		{ir.Int, `-9223372036854775808`, ``},
		{ir.Int, `9223372036854775808`, `number 9223372036854775808 out of range for int`},
		{ir.I32, `2147483648`, `number 2147483648 out of range for i32`},
		{ir.U32, `-1`, `number -1 out of range for u32`},
		{ir.F32, `1e39`, `number 1e39 out of range for f32`},
		{ir.Float, `1e400`, `number 1e400 out of range for float`},
		{ir.Duration, `"90 minutes"`, `expected duration such as "1h30m" or "2d", found string "90 minutes"`},
		{ir.Duration, `1.5`, `duration in nanoseconds: expected int, found number 1.5 with a fraction`},
		{ir.Duration, `true`, `expected duration, found bool true`},
		{ir.Time, `"2026-11-27 10:00"`, `expected time in RFC 3339 such as "2026-11-27T10:00:00Z", found string "2026-11-27 10:00"`},
		{ir.Time, `"3000-01-01T00:00:00Z"`, `time "3000-01-01T00:00:00Z" out of range (1677-09-21 to 2262-04-11)`},
		{ir.Bytes, `"%%"`, `expected bytes in base64, found string "%%"`},
		{all, strings.Replace(everything, `"high"`, `"max"`, 1), `e: "max" is not a member of Level (low, high)`},
		{all, strings.Replace(everything, `"10":`, `"ten":`, 1), `m["ten"]: map key: expected int, found "ten"`},
		{all, strings.Replace(everything, `"low":true`, `"low":1`, 1), `me["low"]: expected bool, found number 1`},
	}
	for _, c := range cases {
		_, err := FromJSONNamed(p, c.t, nameFor(c.t, order), []byte(c.in))
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

func nameFor(t, order ir.TypeID) string {
	if t == order {
		return "order"
	}
	return ""
}

func TestToJSONErrors(t *testing.T) {
	p := ir.NewProgram("t")
	lt := p.ListOf(ir.Float)
	if _, err := ToJSON(p, List([]Value{Float(1), Float(1).nan()}), lt); err == nil || err.Error() != "[1]: cannot encode NaN in JSON" {
		t.Errorf("NaN: %v", err)
	}
	if _, err := ToJSON(p, Str("x"), ir.Int); err == nil || err.Error() != "cannot encode string as int" {
		t.Errorf("mismatch: %v", err)
	}
	mt := p.MapOf(p.ListOf(ir.Int), ir.Int)
	if _, err := ToJSON(p, Map([]Value{List(nil)}, []Value{Int(1)}), mt); err == nil || !strings.Contains(err.Error(), "cannot be written in JSON") {
		t.Errorf("list key: %v", err)
	}
	if _, err := ToJSON(p, List([]Value{Str("ok"), Str("\xff")}), p.ListOf(ir.String)); err == nil || err.Error() != "[1]: string is not valid UTF-8; use bytes" {
		t.Errorf("invalid UTF-8: %v", err)
	}
	if out, err := ToJSON(p, None, p.OptionalOf(ir.Int)); err != nil || string(out) != "null" {
		t.Errorf("none = %s, %v", out, err)
	}
}

func (v Value) nan() Value { return Float(v.AsFloat() * 0 / zeroFloat) }

var zeroFloat = 0.0

// TestJSONExactInts pins integers read by their exact decimal value: a
// fraction below float64's resolution, a tiny exponent or a number just
// below int64's range must not be rounded into an int.
func TestJSONExactInts(t *testing.T) {
	p := ir.NewProgram("t")
	cases := []struct {
		t    ir.TypeID
		in   string
		want string // the decoded value, or the error
	}{
		{ir.Int, `-9223372036854775809`, `number -9223372036854775809 out of range for int`},
		{ir.Int, `-9223372036854775808`, `-9223372036854775808`},
		{ir.Int, `-92233720368547758090e-1`, `number -92233720368547758090e-1 out of range for int`},
		{ir.Int, `-92233720368547758080e-1`, `-9223372036854775808`},
		{ir.Int, `1.0000000000000000001`, `expected int, found number 1.0000000000000000001 with a fraction`},
		{ir.Int, `1e-400`, `expected int, found number 1e-400 with a fraction`},
		{ir.Int, `0e-400`, `0`},
		{ir.Int, `-0`, `0`},
		{ir.Int, `12.50e1`, `125`},
		{ir.Int, `1e18`, `1000000000000000000`},
		{ir.Int, `1e19`, `number 1e19 out of range for int`},
		{ir.Int, `1e99999999999999999999`, `number 1e99999999999999999999 out of range for int`},
		{ir.I32, `-2147483649`, `number -2147483649 out of range for i32`},
		{ir.U32, `4294967295.000`, `4294967295`},
		{ir.Duration, `1.5e9`, `1.5s`},
		{ir.Duration, `0.5`, `duration in nanoseconds: expected int, found number 0.5 with a fraction`},
	}
	for _, c := range cases {
		v, err := FromJSON(p, c.t, []byte(c.in))
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = v.String()
		}
		if got != c.want {
			t.Errorf("%s as %s:\n got %s\nwant %s", c.in, p.TypeString(c.t), got, c.want)
		}
	}
	m := p.MapOf(ir.Int, ir.Bool)
	if _, err := FromJSON(p, m, []byte(`{"-9223372036854775809":true}`)); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("map key below int64: %v", err)
	}
}

// TestJSONStringsUTF8 pins that a string which is not valid UTF-8 is
// refused with its path, where encoding/json would replace it silently,
// while a real U+FFFD (literal or escaped) is kept.
func TestJSONStringsUTF8(t *testing.T) {
	p := ir.NewProgram("t")
	rec := p.RecordOf("R", ir.Field{Name: "names", Type: p.ListOf(ir.String)})
	bad := []string{
		"{\"names\":[\"ok\",\"a\xffb\"]}",
		`{"names":["ok","a\ud800b"]}`,
		"{\"names\":[\"ok\",\"\uFFFD\xff\"]}",
	}
	for _, in := range bad {
		_, err := FromJSONNamed(p, rec, "r", []byte(in))
		if err == nil || !strings.HasPrefix(err.Error(), "r.names[1]: string is not valid UTF-8") {
			t.Errorf("%q: got %v, want an error at r.names[1]", in, err)
		}
	}
	if _, err := FromJSONNamed(p, p.MapOf(ir.String, ir.Int), "m", []byte("{\"k\xff\":1}")); err == nil || !strings.Contains(err.Error(), "not valid UTF-8") {
		t.Errorf("bad key: %v", err)
	}
	good := map[string]string{
		"{\"names\":[\"\uFFFD\"]}":            "\uFFFD",
		`{"names":["\ufffd"]}`:                "\uFFFD",
		`{"names":["\uFFFD x \ud83d\ude00"]}`: "\uFFFD x \U0001F600",
	}
	for in, want := range good {
		v, err := FromJSON(p, rec, []byte(in))
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if got := v.Elems()[0].Elems()[0].AsString(); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

// TestJSONDepth pins one nesting limit for input and output: what
// FromJSON accepts ToJSON writes back, and one level more is refused both
// ways with the path.
func TestJSONDepth(t *testing.T) {
	p := ir.NewProgram("t")
	ty := ir.Int
	for range MaxDepth {
		ty = p.ListOf(ty)
	}
	text := strings.Repeat("[", MaxDepth) + "7" + strings.Repeat("]", MaxDepth)
	v, err := FromJSON(p, ty, []byte(text))
	if err != nil {
		t.Fatalf("%d levels: %v", MaxDepth, err)
	}
	out, err := ToJSON(p, v, ty)
	if err != nil || string(out) != text {
		t.Fatalf("%d levels back: %v", MaxDepth, err)
	}
	deeper := "[" + text + "]"
	if _, err := FromJSON(p, p.ListOf(ty), []byte(deeper)); err == nil || err.Error() != strings.Repeat("[0]", MaxDepth)+": nested more than 1000 levels deep" {
		t.Errorf("%d levels in: %v", MaxDepth+1, err)
	}
	if _, err := ToJSON(p, List([]Value{v}), p.ListOf(ty)); err == nil || !strings.HasSuffix(err.Error(), ": nested more than 1000 levels deep") {
		t.Errorf("%d levels out: %v", MaxDepth+1, err)
	}
	// Endless nesting stops at the limit instead of exhausting the stack.
	if _, err := FromJSON(p, ir.Int, []byte(strings.Repeat("[", 1<<20))); err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Errorf("endless nesting: %v", err)
	}
}

// TestJSONDurationLiterals pins that every duration literal of the
// language is a duration input too.
func TestJSONDurationLiterals(t *testing.T) {
	p := ir.NewProgram("t")
	for in, want := range map[string]string{
		`"1d"`: "24h0m0s", `"1d12h"`: "36h0m0s", `"-2d"`: "-48h0m0s", `"90m"`: "1h30m0s",
		`"1h30m"`: "1h30m0s", `"1.5h"`: "1h30m0s", `"250ms"`: "250ms", `"3us"`: "3µs",
		`"106751d"`: "2562024h0m0s",
	} {
		v, err := FromJSON(p, ir.Duration, []byte(in))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if got := time.Duration(v.AsInt()).String(); got != want {
			t.Errorf("%s = %s, want %s", in, got, want)
		}
	}
	for _, in := range []string{`"1x"`, `"d"`, `"106752d"`, `"1.5d"`, `""`, `"-"`} {
		if _, err := FromJSON(p, ir.Duration, []byte(in)); err == nil {
			t.Errorf("%s accepted", in)
		}
	}
}
