// This file tests the evaluator of compiled functions: it runs the
// functions of its own program (or of a copy with the same encoding),
// refuses any other, and converts like the interpreter's evaluator.

package host

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

const compiledSrc = `package c

fn twice(n: int) -> int = n * 2

workflow W(n: int) -> int {
  return twice(n)
}
`

// interpreted stands in for generated code: each function runs on the
// register machine, so the test checks only the adapter.
func interpreted(p *ir.Program) []NativeFunc {
	fs := make([]NativeFunc, len(p.Funcs))
	for i := range p.Funcs {
		fs[i] = func(n *eval.Native, args []eval.Value) (eval.Value, error) {
			return eval.New(n.Prog).CallFunc(n.Prog.Funcs[i], n.Env, args...)
		}
	}
	return fs
}

func TestCompiledSameProgramOnly(t *testing.T) {
	p := compile(t, compiledSrc)
	if _, err := NewCompiled(p, nil); err == nil {
		t.Error("NewCompiled accepted a table of the wrong length")
	}
	c, err := NewCompiled(p, interpreted(p))
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	copyP, err := ir.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	var twice int
	for i, f := range copyP.Funcs {
		if f.Name == "twice" {
			twice = i
		}
	}
	// A copy read back from a data directory is the same program.
	got, err := c.Eval(context.Background(), copyP.Funcs[twice], engine.Env{Prog: copyP, Args: []eval.Value{eval.Int(21)}})
	if err != nil || got != eval.Int(42) {
		t.Errorf("twice(21) on the copy = %v, %v; want 42", got, err)
	}
	want, err := (&Evaluator{}).Eval(context.Background(), copyP.Funcs[twice], engine.Env{Prog: copyP, Args: []eval.Value{eval.Int(21)}})
	if err != nil || want != got {
		t.Errorf("interpreter gives %v, %v; compiled %v", want, err, got)
	}
	// Another program is refused, not interpreted.
	other := compile(t, strings.Replace(compiledSrc, "n * 2", "n * 3", 1))
	if c.Same(other) {
		t.Error("Same reports another program as the same")
	}
	if _, err := c.Eval(context.Background(), other.Funcs[twice], engine.Env{Prog: other, Args: []eval.Value{eval.Int(21)}}); err == nil || !strings.Contains(err.Error(), "not the one this binary was built from") {
		t.Errorf("Eval of another program's function: %v", err)
	}
}

// TestCompiledConcurrent: the engine evaluates the calls of a round
// concurrently; each evaluation has its own call state.
func TestCompiledConcurrent(t *testing.T) {
	p := compile(t, compiledSrc)
	c, err := NewCompiled(p, interpreted(p))
	if err != nil {
		t.Fatal(err)
	}
	var twice int
	for i, f := range p.Funcs {
		if f.Name == "twice" {
			twice = i
		}
	}
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for k := range 200 {
				n := int64(g*1000 + k)
				got, err := c.Eval(context.Background(), p.Funcs[twice], engine.Env{Prog: p, Args: []eval.Value{eval.Int(n)}})
				if err == nil && got != eval.Int(2*n) {
					err = fmt.Errorf("twice(%d) = %v", n, got)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
