package discover_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/format"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/runtime/discover"
	"github.com/knhk/knhk/runtime/eventlog/eventlogtest"
)

// build runs src through the gate of knhk check: the checker, lowering
// and the soundness proof; any diagnostic fails the test, except, with
// capped, the warning that the proof reached its cap of states (which
// knhk check prints and passes).
func build(t *testing.T, src string, capped ...bool) {
	t.Helper()
	pkg, info, diags := check.CheckSource("model.knhk", []byte(src), &check.Config{})
	if len(diags) > 0 {
		t.Fatalf("check: %v\n%s", diags, src)
	}
	_, ld := compiler.Build(pkg, info)
	for _, d := range ld {
		if len(capped) > 0 && capped[0] && d.Severity == source.Warning && strings.Contains(d.Message, "could not prove workflow Discovered sound within") {
			continue
		}
		t.Fatalf("knhk check rejects it: %v\n%s", d, src)
	}
}

// TestKnhkPasses: discovered models print as programs that pass knhk
// check, with a mock naming every task. 08_receipt's plain-miner tree
// (as pm4py's golden tree, printed the same way) has so many optional
// parallel branches that the soundness proof stops at its cap of
// states with a warning; knhk check passes it, and the IMf tree is
// proven.
func TestKnhkPasses(t *testing.T) {
	for _, c := range []struct {
		log    string
		noise  float64
		capped bool
	}{
		{"running-example.xes", 0, false},
		{"08_receipt.xes.gz", 0.2, false},
		{"08_receipt.xes.gz", 0, true},
	} {
		t.Run(fmt.Sprintf("%s/%v", c.log, c.noise), func(t *testing.T) {
			l := discover.FromExport(eventlogtest.Read(t, c.log))
			tree, err := discover.Discover(l, discover.Options{Noise: c.noise})
			if err != nil {
				t.Fatal(err)
			}
			src := discover.Knhk(tree, discover.Header{Log: c.log, Noise: c.noise, Traces: len(l.Sequences()), Score: discover.Evaluate(tree, l)})
			build(t, src.Program, c.capped)
			var mock map[string]any
			if err := json.Unmarshal(src.Mock, &mock); err != nil {
				t.Fatal(err)
			}
			for _, a := range tree.Activities() {
				found := false
				for k := range mock {
					if strings.Contains(src.Program, "task "+k+"() extern") && strings.Contains(src.Program, "// "+k+" is the activity "+strQuote(a)) {
						found = true
					}
				}
				if !found {
					t.Errorf("activity %q has no task in the mock", a)
				}
			}
		})
	}
}

func strQuote(s string) string { b, _ := json.Marshal(s); return string(b) }

// TestKnhkShapes prints every operator, nested in every other, and
// checks the programs pass.
func TestKnhkShapes(t *testing.T) {
	a := &discover.Node{Op: discover.Activity, Label: "a"}
	b := &discover.Node{Op: discover.Activity, Label: "B b"}
	c := &discover.Node{Op: discover.Activity, Label: "1 task"}
	tau := &discover.Node{Op: discover.Tau}
	op := func(o discover.Op, cs ...*discover.Node) *discover.Node { return &discover.Node{Op: o, Children: cs} }
	for _, tree := range []*discover.Node{
		op(discover.Seq, a, op(discover.And, op(discover.Loop, b, tau), op(discover.Xor, c, tau))),
		op(discover.Loop, op(discover.And, a, op(discover.Seq, b, c)), op(discover.Xor, tau, a)),
		op(discover.And, op(discover.Loop, a, b), op(discover.Loop, c, tau, tau)),
		op(discover.Xor, op(discover.And, a, b), op(discover.Loop, tau, op(discover.Xor, c, a))),
	} {
		src := discover.Knhk(tree, discover.Header{Log: "x.xes"})
		build(t, src.Program)
		if f, ds := format.Bytes("m.knhk", []byte(src.Program)); ds.HasErrors() || string(f) != src.Program {
			t.Errorf("not as knhk fmt writes it: %v\n%s", ds, src.Program)
		}
	}
}
