// This file fuzzes the JSON decoder: it never panics, and whatever it
// accepts encodes and decodes back to an equal value.

package eval

import (
	"strings"
	"testing"

	"github.com/knhk/knhk/compiler/ir"
)

func FuzzFromJSON(f *testing.F) {
	p, order, all := jsonTypes(f)
	f.Add(0, []byte(everything))
	f.Add(1, []byte(order0))
	f.Add(0, []byte(`{"t":"1677-09-21T00:12:43.145224192Z","d":-9223372036854775808}`))
	f.Add(2, []byte(`[1, 2.0, 3e2]`))
	f.Add(3, []byte(`{"9223372036854775807":"x"}`))
	lt := p.ListOf(ir.Int)
	mt := p.MapOf(ir.Int, ir.String)
	types := []ir.TypeID{all, order, lt, mt, ir.Duration, ir.Time, ir.F32, ir.Bytes}
	f.Fuzz(func(t *testing.T, which int, data []byte) {
		if which < 0 {
			which = -which
		}
		typ := types[which%len(types)]
		v, err := FromJSON(p, typ, data)
		if err != nil {
			if _, ok := err.(*DecodeError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		out, err := ToJSON(p, v, typ)
		if err != nil {
			t.Fatalf("decoded %v but cannot encode it: %v", v, err)
		}
		back, err := FromJSON(p, typ, out)
		if err != nil {
			t.Fatalf("encoded %s does not decode: %v", out, err)
		}
		if Compare(back, v) != 0 {
			t.Fatalf("round trip changed %v to %v", v, back)
		}
	})
}

// FuzzCall decodes a program (seeded with the encodings of the examples)
// and runs every function on zero arguments of its parameter types: a
// program that verifies never trips the machine's panic guard, whatever
// its functions compute.
func FuzzCall(f *testing.F) {
	for _, path := range []string{ordersFile, etlFile, fraudFile, exprFile, kernelFile} {
		b, err := lowerFile(f, path).Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ir.Decode(data)
		if err != nil {
			return
		}
		m := New(p)
		m.MaxSteps = 10_000
		for i, fn := range p.Funcs {
			args := make([]Value, len(fn.Params))
			for j, prm := range fn.Params {
				args[j] = Zero(p, prm.Type)
			}
			_, err := m.Call(ir.FuncID(i), zeroEnv{p, fn}, args...)
			if err != nil && strings.Contains(err.Error(), "malformed program") {
				t.Fatalf("%s: %v", fn.Name, err)
			}
		}
	})
}

// zeroEnv supplies zero case variables.
type zeroEnv struct {
	p  *ir.Program
	fn *ir.Func
}

func (e zeroEnv) Var(i int) (Value, bool) {
	if e.fn.Scope < 0 || int(e.fn.Scope) >= len(e.p.Nets) {
		return Value{}, false
	}
	vs := e.p.Nets[e.fn.Scope].Vars
	if i < 0 || i >= len(vs) {
		return Value{}, false
	}
	return Zero(e.p, vs[i].Type), true
}

func (zeroEnv) Milestone(string) bool { return false }
