// This file tests the fields of a multiple-instance transition that
// shape its join and its added instances: Keep and Label.

package ir

import (
	"errors"
	"strings"
	"testing"
)

// sampleMulti returns the sample program, its TMulti transition and the
// net holding it.
func sampleMulti(t *testing.T) (*Program, *Net, *Transition) {
	t.Helper()
	p := sampleProgram()
	for _, n := range p.Nets {
		for _, tr := range n.Transitions {
			if tr.Kind == TMulti {
				return p, n, tr
			}
		}
	}
	t.Fatal("the sample has no TMulti")
	return nil, nil, nil
}

func TestMultiKeepMoreRoundTrip(t *testing.T) {
	p, n, tr := sampleMulti(t)
	n.Signals = append(n.Signals, &Signal{Name: "Extra", Params: []Param{{"x", Int}}, Loc: NoLoc})
	before, err := p.Hash()
	if err != nil {
		t.Fatal(err)
	}
	tr.Keep, tr.Label = true, "Extra"
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	q, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	var back *Transition
	for _, m := range q.Nets {
		for _, x := range m.Transitions {
			if x.Kind == TMulti {
				back = x
			}
		}
	}
	if back == nil {
		t.Fatal("the decoded program has no TMulti")
	}
	if !back.Keep || back.Label != "Extra" {
		t.Errorf("decoded keep %v label %q, want true and Extra", back.Keep, back.Label)
	}
	if s := q.String(); !strings.Contains(s, " keep more Extra") {
		t.Errorf("the printer shows neither keep nor more:\n%s", s)
	}
	if after, _ := p.Hash(); after == before {
		t.Error("keep and more do not change the hash")
	}
}

func TestMultiVerify(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(n *Net, tr *Transition)
		want   string
	}{
		{"keep without quorum", func(n *Net, tr *Transition) { tr.Keep, tr.Quorum = true, NoFunc }, "keeps instances running without a quorum"},
		{"undeclared more", func(n *Net, tr *Transition) { tr.Label = "Nope" }, `adds instances on undeclared signal "Nope"`},
		{"more with two values", func(n *Net, tr *Transition) {
			n.Signals = append(n.Signals, &Signal{Name: "Two", Params: []Param{{"a", Int}, {"b", Int}}, Loc: NoLoc})
			tr.Label = "Two"
		}, `adds instances on signal "Two" with 2 parameters, want 1`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, n, tr := sampleMulti(t)
			c.break_(n, tr)
			var ve *VerifyError
			if err := p.Verify(); !errors.As(err, &ve) || !strings.Contains(strings.Join(ve.Problems, "\n"), c.want) {
				t.Fatalf("Verify() = %v, want a problem %q", err, c.want)
			}
		})
	}
}
