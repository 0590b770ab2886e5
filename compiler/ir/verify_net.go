// This file implements the invariant checks of declarations: kernels,
// tasks, calls and workflow nets.

package ir

import (
	"fmt"
	"slices"
)

func isKernelScalar(k Kind) bool {
	return k == KindF32 || k == KindI32 || k == KindU32 || k == KindBool
}

func (v *verifier) kernel(k *Kernel) {
	p := v.p
	v.loc("location", k.Loc)
	arrays := 0
	for _, pa := range k.Params {
		if !v.typeOK("parameter "+pa.Name, pa.Type, false) {
			continue
		}
		kind := p.KindOf(pa.Type)
		if kind == KindList && isKernelScalar(p.KindOf(p.Type(pa.Type).Elem)) {
			arrays++
		} else if !isKernelScalar(kind) {
			v.errorf("parameter %s of type %s", pa.Name, p.TypeString(pa.Type))
		}
	}
	if arrays == 0 {
		v.errorf("no array parameter")
	}
	var elem TypeID = -1
	if v.typeOK("result", k.Result, false) {
		if t := p.Type(k.Result); t != nil && t.Kind == KindList && isKernelScalar(p.KindOf(t.Elem)) {
			elem = t.Elem
		} else {
			v.errorf("result of type %s, want an array", p.TypeString(k.Result))
		}
	}
	body := v.funcRef("body", k.Body, false)
	if body == nil {
		return
	}
	if body.Scope != -1 {
		v.errorf("body reads the variables of net %d", body.Scope)
	}
	if len(body.Params) != len(k.Params)+1 {
		v.errorf("body takes %d parameters, want %d", len(body.Params), len(k.Params)+1)
		return
	}
	for i, pa := range k.Params {
		if !p.identical(body.Params[i].Type, pa.Type) {
			v.errorf("body parameter %d is %s, want %s", i, p.TypeString(body.Params[i].Type), p.TypeString(pa.Type))
		}
	}
	if body.Params[len(k.Params)].Type != I32 {
		v.errorf("body index parameter is %s, want i32", p.TypeString(body.Params[len(k.Params)].Type))
	}
	if elem >= 0 && !p.identical(body.Result, elem) {
		v.errorf("body returns %s, want %s", p.TypeString(body.Result), p.TypeString(elem))
	}
}

func (v *verifier) task(t *Task) {
	v.loc("location", t.Loc)
	for _, pa := range t.Params {
		v.typeOK("parameter "+pa.Name, pa.Type, false)
	}
	v.typeOK("result", t.Result, true)
	if t.Binding.Kind >= numBindKinds {
		v.errorf("bad binding kind %d", t.Binding.Kind)
	}
	if t.Binding.Kind == BindQueue && t.Binding.Target == "" {
		v.errorf("queue binding without a queue name")
	}
	if t.Retry < 0 {
		v.errorf("negative retry %d", t.Retry)
	}
	v.clauseFunc("backoff", t.Backoff, t.Result)
	v.clauseFunc("timeout", t.Timeout, t.Result)
	if t.Undo != nil {
		v.call("undo", t.Undo, -1, 1)
	}
}

// clauseFunc checks a task's default duration clause: a pure function of
// no parameters, or of the call's result.
func (v *verifier) clauseFunc(what string, f FuncID, result TypeID) {
	fn := v.funcRef(what, f, true)
	if fn == nil {
		return
	}
	if fn.Scope != -1 || len(fn.Params) > 1 {
		v.errorf("%s: f%d is not a pure function of at most the result", what, f)
	}
	if fn.Result != Duration {
		v.errorf("%s: f%d returns %s, want duration", what, f, v.p.TypeString(fn.Result))
	}
}

// call checks a call made from net (or from a task's undo clause when net
// is -1). skip is how many callee parameters are not passed as Args.
func (v *verifier) call(what string, c *Call, net int32, depth int) {
	p := v.p
	if depth > 8 {
		v.errorf("%s: undo nested too deep", what)
		return
	}
	v.loc(what, c.Loc)
	var params []Param
	switch c.Kind {
	case CallTask:
		if c.Target < 0 || int(c.Target) >= len(p.Tasks) || p.Tasks[c.Target] == nil {
			v.errorf("%s: task %d out of range", what, c.Target)
			return
		}
		params = p.Tasks[c.Target].Params
	case CallWorkflow:
		if c.Target < 0 || int(c.Target) >= len(p.Nets) || p.Nets[c.Target] == nil {
			v.errorf("%s: workflow %d out of range", what, c.Target)
			return
		}
		params = p.Nets[c.Target].Params
	case CallKernel:
		if c.Target < 0 || int(c.Target) >= len(p.Kernels) || p.Kernels[c.Target] == nil {
			v.errorf("%s: kernel %d out of range", what, c.Target)
			return
		}
		params = p.Kernels[c.Target].Params
	default:
		v.errorf("%s: bad call kind %d", what, c.Kind)
		return
	}
	if len(c.Args) != len(params) {
		v.errorf("%s: %d arguments for %d parameters", what, len(c.Args), len(params))
	} else {
		for i, a := range c.Args {
			if net >= 0 {
				v.exprFunc(fmt.Sprintf("%s argument %d", what, i), a, net, params[i].Type, false)
			} else if fn := v.funcRef(fmt.Sprintf("%s argument %d", what, i), a, false); fn != nil && !p.identical(fn.Result, params[i].Type) {
				v.errorf("%s argument %d: f%d returns %s, want %s", what, i, a, p.TypeString(fn.Result), p.TypeString(params[i].Type))
			}
		}
	}
	if c.Retry < -1 {
		v.errorf("%s: negative retry %d", what, c.Retry)
	}
	if c.Kind == CallKernel && (c.Retry != -1 || c.Backoff != NoFunc || c.Timeout != NoFunc || c.Undo != nil) {
		v.errorf("%s: clauses on a kernel call", what)
	}
	if net >= 0 {
		v.exprFunc(what+" backoff", c.Backoff, net, Duration, true)
		v.exprFunc(what+" timeout", c.Timeout, net, Duration, true)
	}
	if c.Undo != nil {
		if c.Undo.Kind != CallTask && c.Undo.Kind != CallWorkflow {
			v.errorf("%s: undo of kind %s", what, c.Undo.Kind)
		}
		v.call(what+" undo", c.Undo, net, depth+1)
	}
}

func (v *verifier) net(ni int32, n *Net) {
	p := v.p
	base := v.ctx
	v.loc("location", n.Loc)
	for _, pa := range n.Params {
		v.typeOK("parameter "+pa.Name, pa.Type, false)
	}
	v.typeOK("result", n.Result, true)
	if len(n.Vars) < len(n.Params) {
		v.errorf("%d variables for %d parameters", len(n.Vars), len(n.Params))
	}
	for i, x := range n.Vars {
		if v.typeOK("variable "+x.Name, x.Type, false) && i < len(n.Params) && !p.identical(x.Type, n.Params[i].Type) {
			v.errorf("variable v%d %s differs from parameter %s", i, x.Name, n.Params[i].Name)
		}
		v.loc("variable "+x.Name, x.Loc)
	}
	np, nt := int32(len(n.Places)), int32(len(n.Transitions))
	for i, pl := range n.Places {
		if pl == nil {
			v.errorf("place p%d: nil", i)
			return
		}
		if pl.Init < 0 {
			v.errorf("place p%d %s: negative init", i, pl.Name)
		}
		v.loc(fmt.Sprintf("place p%d", i), pl.Loc)
	}
	if n.Start < 0 || n.Start >= np || n.End < 0 || n.End >= np || n.Start == n.End {
		v.errorf("start p%d and end p%d must be distinct places", n.Start, n.End)
		return
	}
	if n.Places[n.Start].Init != 0 || n.Places[n.End].Init != 0 {
		v.errorf("start or end place with init tokens")
	}
	for i, t := range n.Transitions {
		if t == nil {
			v.errorf("transition t%d: nil", i)
			return
		}
	}
	seenSig := map[string]*Signal{}
	for i, s := range n.Signals {
		if s == nil || s.Name == "" || seenSig[s.Name] != nil {
			v.errorf("signal %d: nil, unnamed or duplicate", i)
			continue
		}
		seenSig[s.Name] = s
		for _, pa := range s.Params {
			v.typeOK("signal "+s.Name+" parameter "+pa.Name, pa.Type, false)
		}
		v.loc("signal "+s.Name, s.Loc)
	}
	for i, q := range n.Queries {
		if q == nil {
			v.errorf("query %d: nil", i)
			continue
		}
		v.exprFunc("query "+q.Name, q.Value, ni, -1, false)
		v.loc("query "+q.Name, q.Loc)
	}
	for i, h := range n.Hooks {
		if h == nil || h.Action == nil {
			v.errorf("hook %d: nil or without an action", i)
			continue
		}
		where := "hook " + h.Name
		switch h.Event {
		case HookStart, HookEnd, HookFail:
		case HookComplete:
			if h.Task == -1 && h.Label != "" {
				if !slices.ContainsFunc(p.Nets, func(n *Net) bool { return n != nil && n.Name == h.Label }) {
					v.errorf("%s: unknown workflow %q", where, h.Label)
				}
			} else if h.Task < 0 || int(h.Task) >= len(p.Tasks) {
				v.errorf("%s: task %d out of range", where, h.Task)
			}
		case HookSignal:
			if seenSig[h.Label] == nil {
				v.errorf("%s: undeclared signal %q", where, h.Label)
			}
		default:
			v.errorf("%s: bad event %d", where, h.Event)
		}
		v.exprFunc(where+" condition", h.Cond, ni, Bool, true)
		if h.Action.Kind == CallKernel {
			v.errorf("%s: action calls a kernel", where)
		}
		v.call(where+" action", h.Action, ni, 0)
		v.hookBind(where, h, n, ni)
		v.loc(where, h.Loc)
	}
	inputs := make([]int, nt)
	outputs := make([]int, nt)
	defaults := make([]int, nt) // unguarded outputs
	type arcKey struct {
		place, trans int32
		out          bool
	}
	seenArc := map[arcKey]bool{}
	for i, a := range n.Arcs {
		where := fmt.Sprintf("arc %d", i)
		if a == nil {
			v.errorf("%s: nil", where)
			continue
		}
		if a.Place < 0 || a.Place >= np || a.Trans < 0 || a.Trans >= nt {
			v.errorf("%s: connects p%d and t%d, which do not both exist", where, a.Place, a.Trans)
			continue
		}
		where = fmt.Sprintf("arc %d (%s %s, %s)", i, map[bool]string{false: "in", true: "out"}[a.Out], n.Places[a.Place].Name, n.Transitions[a.Trans].Name)
		k := arcKey{a.Place, a.Trans, a.Out}
		if seenArc[k] {
			v.errorf("%s: duplicate", where)
		}
		seenArc[k] = true
		if a.Weight < 1 {
			v.errorf("%s: weight %d", where, a.Weight)
		}
		if a.Out {
			outputs[a.Trans]++
			if a.Guard == NoFunc {
				defaults[a.Trans]++
			}
			if a.Place == n.Start {
				v.errorf("%s: produces into the start place", where)
			}
		} else {
			inputs[a.Trans]++
			if a.Place == n.End {
				v.errorf("%s: consumes from the end place", where)
			}
		}
		if a.Guard != NoFunc {
			if !a.Out || n.Transitions[a.Trans].Split == SplitAnd {
				v.errorf("%s: guard on an arc that is not an output of an XOR or OR split", where)
			}
			v.exprFunc(where+" guard", a.Guard, ni, Bool, false)
		}
		v.loc(where, a.Loc)
	}
	for i, r := range n.Regions {
		if r == nil {
			v.errorf("region r%d: nil", i)
			continue
		}
		for _, x := range r.Places {
			if x < 0 || x >= np {
				v.errorf("region r%d %s: place p%d does not exist", i, r.Name, x)
			}
		}
		for _, x := range r.Transitions {
			if x < 0 || x >= nt {
				v.errorf("region r%d %s: transition t%d does not exist", i, r.Name, x)
			}
		}
		v.loc("region "+r.Name, r.Loc)
	}
	for i, t := range n.Transitions {
		v.ctx = fmt.Sprintf("%s: transition t%d %s", base, i, t.Name)
		if t.Split == SplitXor && defaults[i] > 1 {
			v.errorf("XOR split with %d unguarded outputs; at most one may be the default", defaults[i])
		}
		v.transition(ni, n, t, inputs[i], outputs[i], seenSig)
	}
	v.ctx = base
}

func (v *verifier) transition(ni int32, n *Net, t *Transition, inputs, outputs int, signals map[string]*Signal) {
	p := v.p
	v.loc("location", t.Loc)
	if inputs == 0 {
		v.errorf("no input arc")
	}
	switch t.Join {
	case JoinAnd, JoinXor, JoinOr:
	case JoinPartial:
		if t.JoinN < 1 || int(t.JoinN) > inputs {
			v.errorf("partial join of %d out of %d inputs", t.JoinN, inputs)
		}
	case JoinDrain:
		if t.Region < 0 || int(t.Region) >= len(n.Regions) {
			v.errorf("drains region r%d, which does not exist", t.Region)
		}
		if t.Cancel == CancelRegion || t.Cancel == CancelTask {
			v.errorf("a drain cannot also cancel: both use its region")
		}
	default:
		v.errorf("bad join %d", t.Join)
	}
	switch t.Split {
	case SplitAnd:
	case SplitXor, SplitOr:
		if outputs == 0 {
			v.errorf("%s split without outputs", t.Split)
		}
	default:
		v.errorf("bad split %d", t.Split)
	}
	switch t.Cancel {
	case CancelNone, CancelCase:
	case CancelRegion, CancelTask:
		if t.Region < 0 || int(t.Region) >= len(n.Regions) {
			v.errorf("cancels region r%d, which does not exist", t.Region)
		}
		if t.Cancel == CancelTask && (t.Task < 0 || int(t.Task) >= len(p.Tasks)) {
			v.errorf("cancels task %d, which does not exist", t.Task)
		}
	default:
		v.errorf("bad cancel %d", t.Cancel)
	}
	var resultType TypeID = Void
	if t.Result >= 0 {
		if int(t.Result) >= len(n.Vars) {
			v.errorf("result variable v%d out of range", t.Result)
			return
		}
		resultType = n.Vars[t.Result].Type
	} else if t.Result != -1 {
		v.errorf("result variable v%d out of range", t.Result)
	}
	checkResult := func(got TypeID) {
		if t.Result >= 0 && !p.identical(got, resultType) {
			v.errorf("result %s stored in variable of type %s", p.TypeString(got), p.TypeString(resultType))
		}
	}
	needCall := func(kind CallKind) {
		if t.Call == nil || t.Call.Kind != kind {
			v.errorf("%s transition without a %s call", t.Kind, kind)
			return
		}
		v.call("call", t.Call, ni, 0)
		checkResult(v.calleeResult(t.Call))
	}
	switch t.Kind {
	case TNop, TCancel:
	case TTask:
		needCall(CallTask)
	case TWorkflow:
		needCall(CallWorkflow)
	case TKernel:
		needCall(CallKernel)
	case TRoute:
		if t.Label == "" || len(t.Candidates) == 0 {
			v.errorf("route without a policy name or candidates")
		}
		for i, f := range t.Features {
			v.exprFunc(fmt.Sprintf("feature %d", i), f, ni, -1, false)
		}
		for i, c := range t.Candidates {
			if c == nil || c.Kind == CallKernel {
				v.errorf("candidate %d is not a task or workflow call", i)
				continue
			}
			v.call(fmt.Sprintf("candidate %d", i), c, ni, 0)
			checkResult(v.calleeResult(c))
		}
		// The reward may take one parameter: how long the chosen call took.
		if fn := v.funcRef("reward", t.Value, true); fn != nil {
			if len(fn.Params) > 1 || len(fn.Params) == 1 && fn.Params[0].Type != Duration {
				v.errorf("reward: f%d must take nothing or the duration", t.Value)
			}
			if fn.Scope != -1 && fn.Scope != ni {
				v.errorf("reward: f%d reads the variables of net %d", t.Value, fn.Scope)
			}
			if fn.Result != Float {
				v.errorf("reward: f%d returns %s, want float", t.Value, p.TypeString(fn.Result))
			}
		}
	case TTimer:
		// A duration counts from when the timer is enabled; a time is a
		// deadline.
		switch fn := v.funcRef("duration", t.Value, false); {
		case fn == nil:
		case fn.Result == Time:
			v.exprFunc("deadline", t.Value, ni, Time, false)
		default:
			v.exprFunc("duration", t.Value, ni, Duration, false)
		}
	case TSignal:
		s := signals[t.Label]
		if s == nil {
			v.errorf("waits for undeclared signal %q", t.Label)
			break
		}
		if len(t.Bind) != len(s.Params) {
			v.errorf("binds %d variables for %d signal parameters", len(t.Bind), len(s.Params))
			break
		}
		for i, x := range t.Bind {
			if x < 0 || int(x) >= len(n.Vars) {
				v.errorf("binds variable v%d, out of range", x)
			} else if !p.identical(n.Vars[x].Type, s.Params[i].Type) {
				v.errorf("binds %s to variable of type %s", p.TypeString(s.Params[i].Type), p.TypeString(n.Vars[x].Type))
			}
		}
	case TAssign:
		if t.Result < 0 {
			v.errorf("assign without a result variable")
		}
		v.exprFunc("value", t.Value, ni, resultType, false)
	case TFail:
		v.exprFunc("message", t.Value, ni, String, false)
	case TReturn:
		if n.Result == Void {
			if t.Value != NoFunc {
				v.errorf("returns a value from a workflow without a result")
			}
		} else {
			v.exprFunc("value", t.Value, ni, n.Result, false)
		}
	case TMulti:
		fn := v.funcRef("items", t.Value, false)
		if fn != nil {
			v.exprFunc("items", t.Value, ni, -1, false)
			if p.KindOf(fn.Result) != KindList {
				v.errorf("items of type %s, want a list", p.TypeString(fn.Result))
			}
		}
		v.exprFunc("limit", t.Limit, ni, Int, true)
		v.exprFunc("quorum", t.Quorum, ni, Int, true)
		if t.Call == nil || t.Call.Kind != CallWorkflow || t.Call.Target < 0 || int(t.Call.Target) >= len(p.Nets) || p.Nets[t.Call.Target] == nil {
			v.errorf("multiple instances without a body net")
			break
		}
		body := p.Nets[t.Call.Target]
		if len(body.Params) != len(t.Call.Args)+1 {
			v.errorf("body %s takes %d parameters, want the element and %d arguments", body.Name, len(body.Params), len(t.Call.Args))
			break
		}
		if fn != nil && p.KindOf(fn.Result) == KindList && !p.identical(p.Type(fn.Result).Elem, body.Params[0].Type) {
			v.errorf("body element parameter is %s, items are %s", p.TypeString(body.Params[0].Type), p.TypeString(fn.Result))
		}
		if t.Keep && t.Quorum == NoFunc {
			v.errorf("keeps instances running without a quorum")
		}
		if t.Label != "" {
			if s := signals[t.Label]; s == nil {
				v.errorf("adds instances on undeclared signal %q", t.Label)
			} else if len(s.Params) != 1 {
				v.errorf("adds instances on signal %q with %d parameters, want 1", t.Label, len(s.Params))
			}
		}
		for i, a := range t.Call.Args {
			v.exprFunc(fmt.Sprintf("body argument %d", i), a, ni, body.Params[i+1].Type, false)
		}
		if len(t.Bind) > 0 && len(t.Bind) != len(t.Call.Args) {
			v.errorf("shares %d variables for %d body arguments", len(t.Bind), len(t.Call.Args))
			break
		}
		for i, x := range t.Bind {
			if x == -1 {
				continue
			}
			if x < 0 || int(x) >= len(n.Vars) {
				v.errorf("shares variable v%d, out of range", x)
			} else if !p.identical(n.Vars[x].Type, body.Params[i+1].Type) {
				v.errorf("shares variable v%d of type %s with body parameter %s of type %s", x, p.TypeString(n.Vars[x].Type), body.Params[i+1].Name, p.TypeString(body.Params[i+1].Type))
			}
		}
	case TMarker:
		if t.Marker == MarkNone || t.Marker >= numMarkers || t.Label == "" {
			v.errorf("bad marker %d %q", t.Marker, t.Label)
		}
	case TSend:
		v.sendOK(ni, t)
	default:
		v.errorf("bad kind %d", t.Kind)
	}
}

func (v *verifier) calleeResult(c *Call) TypeID {
	p := v.p
	switch c.Kind {
	case CallTask:
		if c.Target >= 0 && int(c.Target) < len(p.Tasks) && p.Tasks[c.Target] != nil {
			return p.Tasks[c.Target].Result
		}
	case CallWorkflow:
		if c.Target >= 0 && int(c.Target) < len(p.Nets) && p.Nets[c.Target] != nil {
			return p.Nets[c.Target].Result
		}
	case CallKernel:
		if c.Target >= 0 && int(c.Target) < len(p.Kernels) && p.Kernels[c.Target] != nil {
			return p.Kernels[c.Target].Result
		}
	}
	return -1
}

// hookBind checks the shared variables of hook h of net n: the action
// calls a workflow with one entry per argument, each -1 or a variable of
// n of the type of the body parameter it aliases.
func (v *verifier) hookBind(where string, h *Hook, n *Net, ni int32) {
	if len(h.Bind) == 0 {
		return
	}
	if h.Action.Kind != CallWorkflow || h.Action.Target < 0 || int(h.Action.Target) >= len(v.p.Nets) || v.p.Nets[h.Action.Target] == nil {
		v.errorf("%s: shares variables with an action that is not a workflow body", where)
		return
	}
	body := v.p.Nets[h.Action.Target]
	if len(h.Bind) != len(h.Action.Args) || len(h.Bind) > len(body.Params) {
		v.errorf("%s: shares %d variables for %d arguments", where, len(h.Bind), len(h.Action.Args))
		return
	}
	for i, x := range h.Bind {
		if x == -1 {
			continue
		}
		if x < 0 || int(x) >= len(n.Vars) {
			v.errorf("%s: shares variable v%d, out of range", where, x)
		} else if !v.p.identical(n.Vars[x].Type, body.Params[i].Type) {
			v.errorf("%s: shares variable v%d of type %s with body parameter %s of type %s", where, x, v.p.TypeString(n.Vars[x].Type), body.Params[i].Name, v.p.TypeString(body.Params[i].Type))
		}
	}
}
