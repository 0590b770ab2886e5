// This file tests the lowering of send statements beyond the golden
// text: the Send payload survives the encoding, and the verifier refuses
// a send whose payload does not fit.

package compiler

import (
	"strings"
	"testing"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"golang.org/x/tools/txtar"
)

func sendProgram(t *testing.T) *ir.Program {
	t.Helper()
	ar, err := txtar.ParseFile("testdata/send.txtar")
	if err != nil {
		t.Fatal(err)
	}
	return lowerFile(t, "in.knhk", &check.Config{ReadFile: archiveFS(ar)})
}

// sends returns the TSend transitions of p by the net they are in.
func sends(p *ir.Program) map[string][]*ir.Transition {
	out := map[string][]*ir.Transition{}
	for _, n := range p.Nets {
		for _, tr := range n.Transitions {
			if tr.Kind == ir.TSend {
				out[n.Name] = append(out[n.Name], tr)
			}
		}
	}
	return out
}

func TestSendLowering(t *testing.T) {
	p := sendProgram(t)
	roundTrip(t, p)
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ir.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	got := sends(back)
	self, other := got["Buyer"], got["Buyer.for_16"]
	if len(self) != 1 || len(other) != 1 {
		t.Fatalf("sends by net: %v", got)
	}
	if s := self[0].Send; self[0].Label != "Go" || s.Workflow != "Buyer" || s.Case != ir.NoFunc || len(s.Args) != 1 ||
		len(s.Params) != 1 || s.Params[0].Name != "why" || s.Params[0].Type != ir.String {
		t.Errorf("send to the running case decoded as %s %+v", self[0].Label, s)
	}
	// The body of the parallel for sends as its workflow would, to
	// another workflow's case, with that workflow's parameter types.
	if s := other[0].Send; other[0].Label != "Offer" || s.Workflow != "Seller" || s.Case == ir.NoFunc ||
		len(s.Params) != 1 || back.TypeString(s.Params[0].Type) != "Order" {
		t.Errorf("send to another case decoded as %s %+v", other[0].Label, s)
	}
}

func TestSendVerify(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		mutate     func(tr *ir.Transition)
	}{
		{"no payload", "send without a signal", func(tr *ir.Transition) { tr.Send = nil }},
		{"no workflow", "send without a signal", func(tr *ir.Transition) { tr.Send.Workflow = "" }},
		{"arity", "send Go: 0 arguments for 1 parameters", func(tr *ir.Transition) { tr.Send.Args = nil }},
		{"argument type", "send Go argument 0: f", func(tr *ir.Transition) { tr.Send.Params[0].Type = ir.Int }},
		{"case type", "send Go case: f1 returns duration, want string", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := sendProgram(t)
			tr := sends(p)["Buyer"][0]
			if tc.mutate != nil {
				tc.mutate(tr)
			} else {
				// The target is the timer's duration function.
				for _, x := range p.Net("Buyer").Transitions {
					if x.Kind == ir.TTimer {
						tr.Send.Case = x.Value
					}
				}
			}
			err := p.Verify()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Verify: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
