// This file implements reading case variables and milestones, and the
// names of case variables in run-time errors.

package eval

import (
	"strconv"

	"github.com/knhk/knhk/compiler/ir"
)

// varName names variable index of the net that fn is scoped to, as the
// source does, for messages: a user knows `count`, not variable 3. A
// variable the program does not describe (a malformed function) is
// named by its index, marked as such.
func varName(p *ir.Program, fn *ir.Func, index int32) string {
	if p != nil && fn != nil && fn.Scope >= 0 && int(fn.Scope) < len(p.Nets) {
		if n := p.Nets[fn.Scope]; index >= 0 && int(index) < len(n.Vars) && n.Vars[index].Name != "" {
			return n.Vars[index].Name
		}
	}
	return "#" + strconv.Itoa(int(index))
}

// readVar reads case variable index of env for fn, the register machine's
// OpVar and compiled code's [Native.Var] alike.
func readVar(p *ir.Program, fn *ir.Func, env Env, index int32) (Value, error) {
	if env == nil {
		return Value{}, failf("case variable %s read without a case", varName(p, fn, index))
	}
	v, ok := env.Var(int(index))
	if !ok {
		return Value{}, failf("case variable %s has no value", varName(p, fn, index))
	}
	return v, nil
}

// readMilestone reports whether the case env holds milestone name.
func readMilestone(env Env, name string) (Value, error) {
	if env == nil {
		return Value{}, failf("milestone %s read without a case", name)
	}
	return Bool(env.Milestone(name)), nil
}
