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

	pool sync.Pool // of *eval.Machine
}

var _ engine.Evaluator = (*Evaluator)(nil)

// Eval runs fn with env's arguments and the case variables of fn's
// scope net, and returns its result. A runtime failure is returned as
// the *eval.Error, which carries the source span; so is a result the
// case cannot keep ([eval.CheckStorable]).
func (e *Evaluator) Eval(ctx context.Context, fn *ir.Func, env engine.Env) (eval.Value, error) {
	p, err := evalProgram(ctx, fn, env)
	if err != nil {
		return eval.Value{}, err
	}
	m, _ := e.pool.Get().(*eval.Machine)
	if m == nil || m.Program() != p {
		m = eval.New(p)
	}
	m.Kernels = e.Kernels
	v, err := m.CallFunc(fn, vars{p: p, fn: fn, r: env.Vars}, env.Args...)
	e.pool.Put(m)
	return evalResult(p, fn, v, err)
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
	if len(env.Args) != len(fn.Params) {
		return nil, fmt.Errorf("%s: %d arguments for %d parameters", fn.Name, len(env.Args), len(fn.Params))
	}
	return env.Prog, nil
}

// evalResult returns fn's result v, or its failure err. A NaN, an
// infinity or a value nested too deep cannot be logged: the case fails
// at the expression instead.
func evalResult(p *ir.Program, fn *ir.Func, v eval.Value, err error) (eval.Value, error) {
	if err != nil {
		return eval.Value{}, err
	}
	if err := eval.CheckStorable(p, fn, v); err != nil {
		return eval.Value{}, err
	}
	return v, nil
}

// vars reads the engine's case variables for eval.
type vars struct {
	p  *ir.Program
	fn *ir.Func
	r  engine.VarReader
}

func (v vars) Var(i int) (eval.Value, bool) {
	if v.r == nil || v.fn.Scope < 0 || int(v.fn.Scope) >= len(v.p.Nets) {
		return eval.Value{}, false
	}
	n := v.p.Nets[v.fn.Scope]
	if i < 0 || i >= len(n.Vars) {
		return eval.Value{}, false
	}
	x := v.r.Var(int32(i))
	if x.Kind() == ir.KindVoid && v.p.KindOf(n.Vars[i].Type) != ir.KindVoid {
		return eval.Value{}, false // unset
	}
	return x, true
}

// Milestone asks the engine's variable reader, which knows the
// milestones the frame holds.
func (v vars) Milestone(name string) bool {
	mr, ok := v.r.(engine.MilestoneReader)
	return ok && mr.Milestone(name)
}
