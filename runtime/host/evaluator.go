// This file implements the engine's Evaluator over runtime/eval.

package host

import (
	"context"
	"fmt"
	"sync"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

// Evaluator is an [engine.Evaluator] that runs functions on eval's
// register machine. Machines are not safe for concurrent use, so it keeps
// a pool of them; the zero Evaluator is ready to use and safe for
// concurrent use. Milestones are read through [engine.MilestoneReader].
type Evaluator struct {
	// Kernels, when set, runs kernel calls on an accelerator (package
	// accel, chosen by KNHK_DEVICE); nil keeps them on the CPU.
	Kernels eval.KernelRunner

	pool  sync.Pool // of *eval.Machine
	cache convCache // large lists and maps read from case variables
}

var _ engine.Evaluator = (*Evaluator)(nil)

// Eval converts env's arguments to fn's parameter types, runs fn with the
// case variables of fn's scope net converted on demand, and returns the
// result in the engine's form. A runtime failure is returned as the
// *eval.Error, which carries the source span; so is a result the case
// cannot keep ([eval.CheckStorable]).
func (e *Evaluator) Eval(ctx context.Context, fn *ir.Func, env engine.Env) (any, error) {
	p, err := evalProgram(ctx, fn, env)
	if err != nil {
		return nil, err
	}
	args, err := evalArgs(p, fn, env)
	if err != nil {
		return nil, err
	}
	m, _ := e.pool.Get().(*eval.Machine)
	if m == nil || m.Program() != p {
		m = eval.New(p)
	}
	m.Kernels = e.Kernels
	v, err := m.CallFunc(fn, vars{p: p, fn: fn, r: env.Vars, c: &e.cache}, args...)
	e.pool.Put(m)
	return evalResult(p, fn, v, err, &e.cache)
}

// evalProgram checks that ctx is live and that there is something to
// evaluate, and returns env's program; shared by [Evaluator.Eval] and
// [Compiled.Eval].
func evalProgram(ctx context.Context, fn *ir.Func, env engine.Env) (*ir.Program, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if env.Prog == nil || fn == nil {
		return nil, fmt.Errorf("nothing to evaluate")
	}
	return env.Prog, nil
}

// evalArgs converts env's arguments to fn's parameter types.
func evalArgs(p *ir.Program, fn *ir.Func, env engine.Env) ([]eval.Value, error) {
	args, err := FromEngineParams(p, env.Args, fn.Params)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name, err)
	}
	return args, nil
}

// evalResult returns fn's result v (or its failure err) in the engine's
// form, remembered in c. A NaN, an infinity or a value nested too deep
// cannot be logged: the case fails at the expression instead.
func evalResult(p *ir.Program, fn *ir.Func, v eval.Value, err error, c *convCache) (any, error) {
	if err != nil {
		return nil, err
	}
	if err := eval.CheckStorable(p, fn, v); err != nil {
		return nil, err
	}
	x := ToEngine(v)
	c.remember(p, fn.Result, x, v)
	return x, nil
}

// vars reads the engine's case variables as eval values.
type vars struct {
	p  *ir.Program
	fn *ir.Func
	r  engine.VarReader
	c  *convCache
}

func (v vars) Var(i int) (eval.Value, bool) {
	if v.r == nil || v.fn.Scope < 0 || int(v.fn.Scope) >= len(v.p.Nets) {
		return eval.Value{}, false
	}
	n := v.p.Nets[v.fn.Scope]
	if i < 0 || i >= len(n.Vars) {
		return eval.Value{}, false
	}
	t := n.Vars[i].Type
	x := v.r.Var(int32(i))
	if x == nil && v.p.KindOf(t) != ir.KindOptional && v.p.KindOf(t) != ir.KindVoid {
		return eval.Value{}, false
	}
	val, err := v.c.fromEngine(v.p, x, t)
	if err != nil {
		return eval.Value{}, false
	}
	return val, true
}

// Milestone asks the engine's variable reader, which knows the
// milestones the frame holds.
func (v vars) Milestone(name string) bool {
	mr, ok := v.r.(engine.MilestoneReader)
	return ok && mr.Milestone(name)
}
