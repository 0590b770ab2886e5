// This file implements the engine's Evaluator over functions compiled to
// Go by codegen/golang: the same values in and out as [Evaluator], so
// that a compiled binary and the interpreter give the engine identical
// values.

package host

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

// NativeFunc is an [ir.Func] compiled to Go: it runs with the call state
// n and its arguments, one per parameter.
type NativeFunc func(n *eval.Native, args []eval.Value) (eval.Value, error)

// Compiled is an [engine.Evaluator] whose functions are Go code generated
// from one program: Funcs[i] is the compiled Prog.Funcs[i]. It evaluates
// functions of Prog, or of any program with the same encoding (a
// descriptor read back from a data directory); any other program is an
// error, never a silent fallback to interpretation. The zero value is
// not usable; create it with [NewCompiled]. It is safe for concurrent use.
type Compiled struct {
	Prog  *ir.Program
	Funcs []NativeFunc
	// Kernels, when set, runs kernel calls on an accelerator, as
	// [Evaluator.Kernels] does for the interpreter.
	Kernels eval.KernelRunner

	enc   []byte
	progs sync.Map  // *ir.Program -> map[*ir.Func]int, or nil when foreign
	pool  sync.Pool // of *eval.Native
}

var _ engine.Evaluator = (*Compiled)(nil)

// NewCompiled returns the evaluator of funcs, compiled from p.
func NewCompiled(p *ir.Program, funcs []NativeFunc) (*Compiled, error) {
	if len(funcs) != len(p.Funcs) {
		return nil, fmt.Errorf("%d compiled functions for %d functions of %s", len(funcs), len(p.Funcs), p.Package)
	}
	enc, err := p.Encode()
	if err != nil {
		return nil, err
	}
	c := &Compiled{Prog: p, Funcs: funcs, enc: enc}
	c.progs.Store(p, funcIndex(p))
	return c, nil
}

func funcIndex(p *ir.Program) map[*ir.Func]int {
	m := make(map[*ir.Func]int, len(p.Funcs))
	for i, f := range p.Funcs {
		m[f] = i
	}
	return m
}

// Same reports whether p is the program c was compiled from (the same
// encoding).
func (c *Compiled) Same(p *ir.Program) bool { return c.index(p) != nil }

func (c *Compiled) index(p *ir.Program) map[*ir.Func]int {
	if m, ok := c.progs.Load(p); ok {
		idx, _ := m.(map[*ir.Func]int)
		return idx
	}
	var idx map[*ir.Func]int
	if b, err := p.Encode(); err == nil && bytes.Equal(b, c.enc) {
		idx = funcIndex(p)
	}
	c.progs.Store(p, idx)
	return idx
}

// Eval runs fn's compiled code with the arguments and case variables
// [Evaluator.Eval] passes, and returns its result. Failures are the
// *eval.Error the register machine would return, with the same span and
// message.
func (c *Compiled) Eval(ctx context.Context, fn *ir.Func, env engine.Env) (v eval.Value, err error) {
	p, err := evalProgram(ctx, fn, env)
	if err != nil {
		return eval.Value{}, err
	}
	idx := c.index(p)
	if idx == nil {
		return eval.Value{}, fmt.Errorf("%s: program %s is not the one this binary was built from", fn.Name, p.Package)
	}
	i, ok := idx[fn]
	if !ok {
		return eval.Value{}, fmt.Errorf("%s: not a function of program %s", fn.Name, p.Package)
	}
	n, _ := c.pool.Get().(*eval.Native)
	if n == nil {
		n = new(eval.Native)
	}
	*n = eval.Native{Prog: p, Env: vars{p: p, fn: fn, r: env.Vars}, Kernels: c.Kernels}
	defer func() {
		if r := recover(); r != nil {
			v, err = eval.Value{}, &eval.Error{Loc: fn.Loc, Func: fn.Name, Msg: fmt.Sprintf("malformed program: %v", r)}
		}
	}()
	x, err := c.Funcs[i](n, env.Args)
	n.Env = nil
	c.pool.Put(n)
	return evalResult(p, fn, x, err)
}
