// This file implements the end-to-end tests: the fns of examples/*.knhk
// and compiler/testdata, lowered by the real compiler and evaluated on
// concrete inputs whose results are computed independently in Go.

package eval

import (
	"math"
	"testing"

	"github.com/knhk/knhk/compiler/ir"
)

const (
	ordersFile   = "../../examples/orders.knhk"
	etlFile      = "../../examples/etl.knhk"
	fraudFile    = "../../examples/fraud.knhk"
	loanFile     = "../../examples/loan.knhk"
	incidentFile = "../../examples/incident.knhk"
	exprFile     = "../../compiler/testdata/expr.txtar"
	kernelFile   = "../../compiler/testdata/kernel.txtar"
)

const customer = `{"id":"c1","name":"Ada","email":"ada@example.com","address":{"street":"1 Main","city":"Oslo","postcode":"0150","region":"east","country":"NO"}}`

func order(coupon string) string {
	return `{"id":"o1","customer":` + customer + `,"items":[{"sku":"a","qty":2,"price":9.5},{"sku":"b","qty":3,"price":1.25}],"coupon":` + coupon + `}`
}

func TestExampleFloats(t *testing.T) {
	orders := lowerFile(t, ordersFile)
	loan := lowerFile(t, loanFile)
	etl := lowerFile(t, etlFile)
	sub := 0 + 9.5*float64(2) + 1.25*float64(3)
	applicant := `{"customer":` + customer + `,"income":5000.0,"debts":800.0}`
	cases := []struct {
		name string
		got  Value
		want float64
	}{
		{"subtotal", mustCall(t, orders, "subtotal", order("null")), sub},
		{"total VIP15", mustCall(t, orders, "total", order(`"VIP15"`)), sub * (1.0 - (0 + 0.15))},
		{"total none", mustCall(t, orders, "total", order("null")), sub * (1.0 - 0)},
		{"total unknown coupon", mustCall(t, orders, "total", order(`"NOPE"`)), sub * (1.0 - 0)},
		{"discount WELCOME10", mustCall(t, orders, "discount", `"WELCOME10"`), 0 + 0.10},
		{"dollars", mustCall(t, orders, "common.dollars", `{"cents":1234,"currency":"EUR"}`), float64(1234) / 100.0},
		{"rate 700", mustCall(t, loan, "rate", `700`), math.Max(0.03, 0.12-float64(700-500)*0.0003)},
		{"rate 900", mustCall(t, loan, "rate", `900`), math.Max(0.03, 0.12-float64(900-500)*0.0003)},
		{"monthly", mustCall(t, loan, "monthly", `10000`, `0.05`, `12`), 10000 * (1.0 + 0.05*float64(12)/12.0) / float64(12)},
		{"dti", mustCall(t, loan, "dti", applicant, `250.5`), (800.0 + 250.5) / math.Max(5000.0, 1.0)},
		{"etl total", mustCall(t, etl, "total", `[{"id":"r1","account":"a","amount":10.25,"age_days":3,"country":"NO"},{"id":"r2","account":"b","amount":-2.5,"age_days":30,"country":"SE"}]`), 0 + 10.25 + -2.5},
	}
	for _, c := range cases {
		if c.got.Kind() != ir.KindFloat || c.got.AsFloat() != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if got := mustCall(t, loan, "rate", `900`).AsFloat(); got != 0.03 {
		t.Errorf("rate(900) = %v, want the floor 0.03", got)
	}
}

func TestExampleValues(t *testing.T) {
	orders := lowerFile(t, ordersFile)
	etl := lowerFile(t, etlFile)
	fraud := lowerFile(t, fraudFile)
	incident := lowerFile(t, incidentFile)
	cases := []struct {
		name string
		got  Value
		want string // Value.String
	}{
		{"coupons", mustCall(t, orders, "coupons"), `["VIP15": 0.15, "WELCOME10": 0.1]`},
		{"add", mustCall(t, orders, "common.add", `{"cents":250,"currency":"EUR"}`, `{"cents":-75,"currency":"USD"}`), `{ cents: 175, currency: "EUR" }`},
		{"contact email", mustCall(t, orders, "common.contact", customer), `"ada@example.com"`},
		{"contact phone", mustCall(t, orders, "common.contact", `{"id":"c1","name":"Ada","email":"e","phone":"+47 1","address":{"street":"","city":"","postcode":"","region":"","country":""}}`), `"+47 1"`},
		{"encode", mustCall(t, etl, "encode", `{"date":"2026-11-27","rows":12,"flagged":3,"total":1.5}`), `"{\"date\": \"2026-11-27\", \"rows\": 12, \"flagged\": 3}"`},
		{"threshold", mustCall(t, etl, "threshold"), "0.9"},
		{"amounts", mustCall(t, fraud, "amounts", payments), "[12.5, 0.1, 1e+06]"},
		{"velocities", mustCall(t, fraud, "velocities", payments), "[1, 7, 0]"},
		{"foreignness", mustCall(t, fraud, "foreignness", payments), "[false, true, true]"},
		{"headline", mustCall(t, incident, "headline", alert), `"[db] disk full"`},
	}
	for _, c := range cases {
		if got := c.got.String(); got != c.want {
			t.Errorf("%s = %s, want %s", c.name, got, c.want)
		}
	}
	// threshold is an f32: 0.9 rounded to float32, not the float64 0.9.
	if got := mustCall(t, etl, "threshold"); got.Kind() != ir.KindF32 || got.AsFloat() != float64(float32(0.9)) {
		t.Errorf("threshold = %v (%s)", got.AsFloat(), got.Kind())
	}
	if got := mustCall(t, fraud, "amounts", payments).Index(1).AsFloat(); got != float64(float32(0.1)) {
		t.Errorf("f32(0.1) = %v", got)
	}
}

const payments = `[
 {"id":"p1","card":"c","merchant":"m","category":"x","amount":12.5,"velocity":1,"foreign":false},
 {"id":"p2","card":"c","merchant":"m","category":"x","amount":0.1,"velocity":7,"foreign":true},
 {"id":"p3","card":"c","merchant":"m","category":"x","amount":1000000,"velocity":0,"foreign":true}]`

func TestCompilerTestdataExpr(t *testing.T) {
	p := lowerFile(t, exprFile)
	items := `[{"sku":"a","qty":2,"price":1.5},{"sku":"b","qty":5,"price":0.25,"note":"fragile"}]`
	if got, want := mustCall(t, p, "total", items, `2.0`).AsFloat(), 0+1.5*float64(2)*2.0+0.25*float64(5)*2.0; got != want {
		t.Errorf("total = %v, want %v", got, want)
	}
	for _, c := range []struct {
		min  string
		want bool
	}{{"4", true}, {"5", false}} {
		if got := mustCall(t, p, "any_big", items, c.min).AsBool(); got != c.want {
			t.Errorf("any_big(%s) = %v", c.min, got)
		}
	}
	// first_ok on an empty list must not index it: && short-circuits.
	if got := mustCall(t, p, "first_ok", `[]`); got.AsBool() {
		t.Errorf("first_ok([]) = %v", got)
	}
	if got := mustCall(t, p, "first_ok", items); !got.AsBool() {
		t.Errorf("first_ok = %v", got)
	}
	str := func(name string, want string, args ...string) {
		t.Helper()
		if got := mustCall(t, p, name, args...).String(); got != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
	str("note", `"none"`, `{"sku":"a","qty":1,"price":1}`)
	str("note", `"fragile"`, `{"sku":"a","qty":1,"price":1,"note":"fragile"}`)
	str("prices", `["a": 1, "b": 2.5]`)
	str("level", "high", "0.5")
	str("make", `{ note: none, price: 2, qty: 1, sku: "z" }`, `"z"`)
	str("label", `"a: 42"`, `{"sku":"a","qty":42,"price":1}`)
	str("maybe", "true", `{"sku":"a","qty":1,"price":1}`)
	str("maybe", "false", `{"sku":"a","qty":1,"price":1,"note":""}`)
}

const alert = `{"id":"a1","service":"db","summary":"disk full","severity":"sev1","started":"2026-11-27T10:00:00Z"}`

// TestGuardWithEnv runs a net function that reads a case variable.
func TestGuardWithEnv(t *testing.T) {
	p := lowerFile(t, ordersFile)
	id := funcID(t, p, "Fulfil.guard")
	ot := p.Nets[0].Vars[0].Type
	for _, c := range []struct {
		order string
		want  bool
	}{{order("null"), true}, {`{"id":"o","customer":` + customer + `,"items":[]}`, false}} {
		o, err := FromJSON(p, ot, []byte(c.order))
		if err != nil {
			t.Fatal(err)
		}
		got, err := Call(p, id, newVars(o))
		if err != nil || got.AsBool() != c.want {
			t.Errorf("guard = %v, %v; want %v", got, err, c.want)
		}
	}
	// Without the variable, the read fails at the variable's span.
	_, err := Call(p, id, &vars{})
	e := evalErr(t, err)
	in := p.Funcs[id].Blocks[0].Instrs[0]
	if in.Op != ir.OpVar || e.Loc != in.Loc {
		t.Errorf("error at %v, want the var instruction's %v", e.Loc, in.Loc)
	}
}
