// This file implements workflow declarations and the statements only
// workflows have: parallel, choose, multi, select, cancel, regions,
// critical sections, interleaving, milestones, signals, queries, hooks and
// learned routes.

package check

import (
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

func (c *checker) workflowDecl(d *syntax.WorkflowDecl, cl *Callable) {
	b := c.enter(d, cl)
	defer c.leave()
	if d.Body == nil {
		return
	}
	c.info.Scopes[d.Body] = c.scope
	c.collectLabels(d.Body.Stmts)
	// A signal that only a select arm waits for is declared by the first
	// such arm, after the explicit signal declarations.
	for _, a := range b.arms {
		if c.findLabel(ObjSignal, a.Signal.Value) == nil {
			if l := c.label(a.Signal, ObjSignal, a, false); l != nil {
				l.typ = c.paramsSig(a.Params, false)
			}
		}
	}
	term := c.stmts(d.Body.Stmts)
	if b.result != TypVoid && !isInvalid(b.result) && !term {
		c.errorf(closingBrace(d.Body), source.MissingReturn, "missing return: workflow %s returns %s, but this path ends without return or fail", cl.name, b.result)
	}
	c.resolveCancels()
	c.unusedVars()
}

// closingBrace is the span of a block's closing brace, where a missing
// return is reported (as gc does).
func closingBrace(b *syntax.Block) source.Span {
	sp := b.Span()
	if sp.End < 1 || sp.End <= sp.Start {
		return source.Span{Start: sp.Start, End: sp.Start}
	}
	return source.Span{Start: sp.End - 1, End: sp.End}
}

// unusedVars warns about let, var, loop and as variables never read.
func (c *checker) unusedVars() {
	for _, v := range c.body.vars {
		if !v.used && v.warn && v.name != "" && v.name[0] != '_' && !isInvalid(v.typ) {
			c.warnf(v.span, source.UnusedVariable, "%s declared and not used", v.name)
		}
	}
}

// collectLabels declares the workflow's named constructs before its body
// is checked, so that cancel region, hooks and milestone conditions may
// refer to them wherever they are.
func (c *checker) collectLabels(list []syntax.Stmt) {
	for _, s := range list {
		switch s := s.(type) {
		case *syntax.SignalDecl:
			if l := c.label(s.Name, ObjSignal, s, true); l != nil {
				l.typ = c.paramsSig(s.Params, true)
			}
		case *syntax.RegionStmt:
			c.label(s.Name, ObjRegion, s, true)
			c.collectBlock(s.Body)
		case *syntax.MilestoneStmt:
			c.label(s.Name, ObjMilestone, s, true)
			c.collectBlock(s.Body)
		case *syntax.CriticalStmt:
			c.label(s.Name, ObjCritical, s, false)
			c.collectBlock(s.Body)
		case *syntax.RouteStmt:
			c.label(s.Name, ObjRoute, s, true)
		case *syntax.HookStmt:
			c.label(s.Name, ObjHook, s, true)
			c.collectStmt(s.Body)
		case *syntax.QueryDecl:
			c.label(s.Name, ObjQuery, s, true)
		case *syntax.IfStmt:
			for ; s != nil; s = s.ElseIf {
				c.collectBlock(s.Then)
				c.collectBlock(s.Else)
			}
		case *syntax.ForStmt:
			c.collectBlock(s.Body)
		case *syntax.WhileStmt:
			c.collectBlock(s.Body)
		case *syntax.ParallelStmt:
			c.collectBlock(s.Body)
		case *syntax.InterleaveStmt:
			c.collectBlock(s.Body)
		case *syntax.BlockStmt:
			c.collectBlock(s.Block)
		case *syntax.ChooseStmt:
			c.collectWhens(s.Whens, s.Else)
		case *syntax.MultiStmt:
			c.collectWhens(s.Whens, s.Else)
		case *syntax.SelectStmt:
			for _, a := range s.Arms {
				if a != nil {
					if a.Signal != nil {
						c.body.arms = append(c.body.arms, a)
					}
					c.collectStmt(a.Body)
				}
			}
		}
	}
}

func (c *checker) collectBlock(b *syntax.Block) {
	if b != nil {
		c.collectLabels(b.Stmts)
	}
}

func (c *checker) collectStmt(s syntax.Stmt) {
	if s != nil {
		c.collectLabels([]syntax.Stmt{s})
	}
}

func (c *checker) collectWhens(ws []*syntax.When, e *syntax.Else) {
	for _, w := range ws {
		if w != nil {
			c.collectStmt(w.Body)
		}
	}
	if e != nil {
		c.collectStmt(e.Body)
	}
}

// label declares a workflow label. Critical sections may repeat their
// name (that is how sections exclude each other); other labels may not.
func (c *checker) label(n *syntax.Name, kind ObjKind, decl source.Spanned, unique bool) *Label {
	if n == nil || c.body == nil {
		return nil
	}
	if prev := c.findLabel(kind, n.Value); prev != nil {
		if unique {
			d := c.errorf(n.Span(), source.DuplicateDecl, "%s %s redeclared in workflow %s", kind, n.Value, c.body.obj.name)
			c.related(d, prev, "other declaration of "+n.Value)
		}
		c.info.TypeUses[n] = prev
		return nil
	}
	l := &Label{object: object{name: n.Value, kind: kind, typ: TypVoid, file: c.file, span: n.Span(), decl: decl}}
	c.info.Defs[n] = l
	c.body.labels = append(c.body.labels, l)
	return l
}

func (c *checker) findLabel(kind ObjKind, name string) *Label {
	if c.body == nil {
		return nil
	}
	for _, l := range c.body.labels {
		if l.kind == kind && l.name == name {
			return l
		}
	}
	return nil
}

func (c *checker) labelNames(kind ObjKind) []string {
	var out []string
	for _, l := range c.body.labels {
		if l.kind == kind {
			out = append(out, l.name)
		}
	}
	return out
}

// paramsSig resolves signal parameters into a signature.
func (c *checker) paramsSig(params []*syntax.Param, record bool) *Signature {
	sig := &Signature{Result: TypVoid}
	for _, p := range params {
		if p == nil {
			continue
		}
		t := c.typExpr(p.Type)
		v := &Var{object: object{name: nameOf(p.Name), kind: ObjVar, typ: t, file: c.file, span: nameSpan(p.Name, p), decl: p}}
		if record && p.Name != nil {
			c.info.Defs[p.Name] = v
		}
		sig.Params = append(sig.Params, v)
	}
	return sig
}

// workflowStmt checks the statements only workflows have.
func (c *checker) workflowStmt(s syntax.Stmt) bool {
	switch s := s.(type) {
	case *syntax.ParallelStmt:
		c.parallel(s)
	case *syntax.InterleaveStmt:
		c.branches(s.Body, true, "an interleave branch")
	case *syntax.ChooseStmt:
		return c.choice(s.Whens, s.Else, true)
	case *syntax.MultiStmt:
		c.choice(s.Whens, s.Else, false)
	case *syntax.SelectStmt:
		return c.selectStmt(s)
	case *syntax.CancelStmt:
		return c.cancel(s)
	case *syntax.RegionStmt:
		return c.block(s.Body)
	case *syntax.CriticalStmt:
		return c.block(s.Body)
	case *syntax.MilestoneStmt:
		return c.block(s.Body)
	case *syntax.FlowStmt:
		c.flow(s)
	case *syntax.RouteStmt:
		c.route(s)
	case *syntax.HookStmt:
		c.hook(s)
	case *syntax.SignalDecl:
		// Declared, with its parameters, by collectLabels.
	case *syntax.QueryDecl:
		c.query(s)
	}
	return false
}

func (c *checker) parallel(s *syntax.ParallelStmt) {
	if s.Body == nil {
		return
	}
	n := len(s.Body.Stmts)
	if n == 0 {
		c.errorf(s.Span(), source.BadJoin, "parallel needs at least one branch")
	}
	all := s.Join == nil || s.Join.Kind == "all"
	c.join(s.Join, joinParallel, n)
	if !all {
		c.enterCond()
		defer c.leaveCond()
	}
	c.branches(s.Body, all, "a parallel branch")
}

// branches checks each statement of body as a concurrent branch in its
// own scope; sibling branches cannot see each other's variables. When
// every branch completes before the statement does (join all, interleave),
// the branches' top-level let variables stay visible after it.
func (c *checker) branches(body *syntax.Block, export bool, barrier string) {
	if body == nil {
		return
	}
	b := c.body
	outer := c.scope
	c.openScope(body)
	inner := c.scope
	var exported []*Var
	b.loops = append(b.loops, loopFrame{barrier: barrier})
	for _, st := range body.Stmts {
		if st == nil {
			continue
		}
		let, isLet := st.(*syntax.LetStmt)
		if !isLet {
			c.stmt(st)
			continue
		}
		c.openScope(st)
		c.stmt(st)
		if export && let.Name != nil {
			if v, ok := c.info.Defs[let.Name].(*Var); ok {
				exported = append(exported, v)
			}
		}
		c.scope = inner
	}
	b.loops = b.loops[:len(b.loops)-1]
	c.scope = outer
	for _, v := range exported {
		if v.name == "_" {
			continue
		}
		if prev := outer.Insert(v); prev != nil && prev != Object(v) {
			d := c.errorf(v.span, source.DuplicateDecl, "%s redeclared in this scope", v.name)
			c.related(d, prev, "other declaration of "+v.name)
		}
	}
}

// choice checks choose (exclusive) and multi; it reports whether every
// branch of a choose with else terminates.
func (c *checker) choice(whens []*syntax.When, els *syntax.Else, exclusive bool) bool {
	c.enterCond()
	defer c.leaveCond()
	all := true
	for _, w := range whens {
		if w == nil {
			continue
		}
		c.cond(w.Cond, "when")
		if !c.branch(w.Body) {
			all = false
		}
	}
	if els == nil {
		return false
	}
	if !c.branch(els.Body) {
		all = false
	}
	return exclusive && all
}

func (c *checker) selectStmt(s *syntax.SelectStmt) bool {
	if len(s.Arms) == 0 {
		c.errorf(s.Span(), source.BadSelect, "select needs at least one arm")
		return false
	}
	c.enterCond()
	defer c.leaveCond()
	all := true
	for i, a := range s.Arms {
		if a == nil {
			continue
		}
		saved := c.scope
		c.openScope(a)
		switch {
		case a.Signal != nil:
			for _, prev := range s.Arms[:i] {
				if prev != nil && prev.Signal != nil && prev.Signal.Value == a.Signal.Value {
					d := c.errorf(a.Signal.Span(), source.BadSelect, "duplicate signal %s in select: each arm must wait for a different signal", a.Signal.Value)
					d.Related = append(d.Related, source.Related{File: c.file, Span: prev.Signal.Span(), Message: "first arm for " + a.Signal.Value})
					break
				}
			}
			c.signalArm(a)
		case a.Timer != nil:
			t := c.value(a.Timer, TypDuration)
			if !isInvalid(t) && !isDuration(t) && !isTime(t) {
				c.errorf(a.Timer.Span(), source.BadSelect, "timer needs a duration (or a time deadline), found %s (type %s)", c.exprString(a.Timer), t)
			}
		case a.Done != nil:
			t, k := c.effectCall(a.Done, nil)
			if !k.effect() {
				if k != callNone || !isInvalid(t) {
					c.errorf(a.Done.Span(), source.BadSelect, "done needs a task or workflow call, such as on done review(o) as r")
				}
			} else if a.As != nil {
				if t == TypVoid {
					c.errorf(a.As.Span(), source.BadSelect, "%s has no result to bind with as", c.exprString(a.Done))
					t = TypInvalid
				}
				v := &Var{object: object{name: a.As.Value, kind: ObjVar, typ: t, file: c.file, span: a.As.Span(), decl: a}, warn: true}
				c.declare(v, a.As)
				c.body.vars = append(c.body.vars, v)
			}
		}
		if a.As != nil && a.Done == nil {
			c.errorf(a.As.Span(), source.BadSelect, "as binds the result of a done arm only")
		}
		if !c.branch(a.Body) {
			all = false
		}
		c.scope = saved
	}
	return all
}

// signalArm binds a signal arm's parameters. An arm for a signal declared
// with `signal S(...)` must repeat its parameters exactly (or omit them
// to bind the declared ones); an undeclared signal is declared by the arm.
func (c *checker) signalArm(a *syntax.Arm) {
	decl := c.findLabel(ObjSignal, a.Signal.Value)
	params := c.paramsSig(a.Params, true).Params
	if decl != nil && decl.decl != source.Spanned(a) {
		c.info.TypeUses[a.Signal] = decl
		dsig, _ := decl.typ.(*Signature)
		if len(a.Params) == 0 && dsig != nil {
			params = nil
			for _, p := range dsig.Params {
				params = append(params, p)
			}
		} else if dsig != nil && !sameParams(params, dsig.Params) {
			d := c.errorf(a.Signal.Span(), source.BadSelect, "signal %s is declared with parameters %s; this arm has %s", a.Signal.Value, dsig, (&Signature{Params: params, Result: TypVoid}))
			c.related(d, decl, "declaration of "+decl.name)
		}
	} else if decl == nil {
		l := &Label{object: object{name: a.Signal.Value, kind: ObjSignal, typ: &Signature{Params: params, Result: TypVoid}, file: c.file, span: a.Signal.Span(), decl: a}}
		c.info.Defs[a.Signal] = l
		c.body.labels = append(c.body.labels, l)
	}
	for _, p := range params {
		if p.name == "" || p.name == "_" {
			continue
		}
		if prev := c.scope.Insert(p); prev != nil {
			d := c.errorf(p.span, source.DuplicateDecl, "duplicate parameter %s", p.name)
			c.related(d, prev, "other declaration of "+p.name)
		}
	}
}

func sameParams(a, b []*Var) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].name != b[i].name || !identical(a[i].typ, b[i].typ, 0) {
			return false
		}
	}
	return true
}

// cancel checks cancel case | region R | task t; task targets are
// resolved when the whole workflow has been seen.
func (c *checker) cancel(s *syntax.CancelStmt) bool {
	switch s.Kind {
	case "case":
		return true
	case "region":
		if s.Target == nil {
			return false
		}
		if l := c.findLabel(ObjRegion, s.Target.Value); l != nil {
			c.info.TypeUses[s.Target] = l
			c.cancelAcross(s, l)
			return false
		}
		d := c.errorf(s.Target.Span(), source.BadCancel, "cancel region %s: no region %s in workflow %s", s.Target.Value, s.Target.Value, c.body.obj.name)
		c.suggestFix(d, s.Target.Span(), s.Target.Value, c.labelNames(ObjRegion))
	case "task":
		if s.Target != nil {
			c.body.cancels = append(c.body.cancels, s)
		}
	}
	return false
}

// resolveCancels checks that each cancel task names a task the workflow
// calls.
func (c *checker) resolveCancels() {
	b := c.body
	for _, s := range b.cancels {
		name := s.Target.Value
		var found *Callable
		for _, t := range b.called {
			if t.name == name {
				found = t
				break
			}
		}
		if found != nil {
			c.info.TypeUses[s.Target] = found
			continue
		}
		obj := c.fileScope.LookupParent(name)
		if cl, ok := obj.(*Callable); ok && cl.kind == ObjTask {
			c.info.TypeUses[s.Target] = cl
			c.errorf(s.Target.Span(), source.BadCancel, "cancel task %s: workflow %s never calls %s", name, b.obj.name, name)
			continue
		}
		d := c.errorf(s.Target.Span(), source.BadCancel, "cancel task %s: no task %s is called in workflow %s", name, name, b.obj.name)
		var names []string
		for _, t := range b.called {
			names = append(names, t.name)
		}
		c.suggestFix(d, s.Target.Span(), name, names)
	}
}

func (c *checker) milestoneExpr(e *syntax.MilestoneExpr) Type {
	if e.Name == nil {
		return TypInvalid
	}
	if c.body == nil || c.body.kind != ObjWorkflow {
		c.errorf(e.Span(), source.MisplacedStatement, "milestone conditions are only allowed in workflows")
		return TypInvalid
	}
	l := c.findLabel(ObjMilestone, e.Name.Name)
	if l == nil {
		d := c.errorf(e.Name.Span(), source.UndefinedName, "undefined milestone %s", e.Name.Name)
		c.suggestFix(d, e.Name.Span(), e.Name.Name, c.labelNames(ObjMilestone))
		return TypBool
	}
	c.info.Uses[e.Name] = l
	return TypBool
}

// route checks a learned choice.
func (c *checker) route(s *syntax.RouteStmt) {
	for _, f := range s.Features {
		t := c.value(f, nil)
		if !isInvalid(t) && !isScalar(t) {
			c.errorf(f.Span(), source.BadRoute, "route feature %s must be a number, bool, string, duration, time or enum, found %s", c.exprString(f), t)
		}
	}
	if len(s.Candidates) < 2 {
		c.errorf(nodeSpan(nameNode(s.Name), s), source.BadRoute, "route %s needs at least two candidates to choose among", nameOf(s.Name))
	}
	c.enterCond()
	for _, cand := range s.Candidates {
		t, k := c.effectCall(cand, nil)
		if !k.effect() && (k != callNone || !isInvalid(t)) {
			c.errorf(cand.Span(), source.BadRoute, "route candidate %s must be a task or workflow call", c.exprString(cand))
		}
	}
	c.leaveCond()
	if s.Reward != nil {
		saved := c.scope
		c.openScope(s.Reward)
		c.scope.Insert(&Var{object: object{name: "duration", kind: ObjVar, typ: TypDuration, decl: s}})
		t := c.value(s.Reward, TypFloat)
		if !isInvalid(t) && !isNumeric(t) && !isDuration(t) {
			c.errorf(s.Reward.Span(), source.BadReward, "reward must be numeric, found %s (type %s)", c.exprString(s.Reward), t)
		}
		c.scope = saved
	}
}

// nameNode converts a possibly nil name to a Spanned without a typed nil.
func nameNode(n *syntax.Name) source.Spanned {
	if n == nil {
		return nil
	}
	return n
}

// hook checks an event-condition-action rule.
func (c *checker) hook(s *syntax.HookStmt) {
	if b := c.body; b != nil {
		for _, l := range b.loops {
			if l.parallel {
				// The instances of a parallel for are not cases: their
				// body has no start, end or failure of its own to hook.
				c.errorf(s.Span(), source.BadHook, "a hook cannot be declared inside a parallel for: declare it at the workflow's level")
				break
			}
		}
	}
	switch s.Event {
	case "signal":
		if s.Target == nil {
			c.errorf(s.Span(), source.BadHook, "hook on signal needs a signal name")
			break
		}
		if l := c.findLabel(ObjSignal, s.Target.Value); l != nil {
			c.info.TypeUses[s.Target] = l
		} else {
			d := c.errorf(s.Target.Span(), source.BadHook, "hook on signal %s: no signal %s is declared in workflow %s", s.Target.Value, s.Target.Value, c.body.obj.name)
			c.suggestFix(d, s.Target.Span(), s.Target.Value, c.labelNames(ObjSignal))
		}
	default:
		if s.Target == nil {
			if s.Event == "complete" {
				c.errorf(s.Span(), source.BadHook, "hook on complete needs a task or workflow name")
			}
			break
		}
		obj := c.lookup(s.Target.Value)
		cl, ok := obj.(*Callable)
		if !ok || (cl.kind != ObjTask && cl.kind != ObjWorkflow) {
			d := c.errorf(s.Target.Span(), source.BadHook, "hook on %s %s: %s is not a task or workflow", s.Event, s.Target.Value, s.Target.Value)
			var names []string
			for _, o := range c.fileScope.list {
				if o.Kind() == ObjTask || o.Kind() == ObjWorkflow {
					names = append(names, o.Name())
				}
			}
			c.suggestFix(d, s.Target.Span(), s.Target.Value, names)
			break
		}
		c.info.TypeUses[s.Target] = cl
	}
	saved := c.scope
	c.openScope(s)
	c.enterCond()
	c.cond(s.Cond, "hook")
	lf := loopFrame{barrier: "a hook"}
	if s.Body != nil {
		lf.net = s.Body.Span()
	}
	c.body.loops = append(c.body.loops, lf)
	c.branch(s.Body)
	c.body.loops = c.body.loops[:len(c.body.loops)-1]
	c.leaveCond()
	c.scope = saved
}

// query checks a read-only view of the case.
func (c *checker) query(s *syntax.QueryDecl) {
	want := c.typExpr(s.Result)
	if l := c.findLabel(ObjQuery, nameOf(s.Name)); l != nil && l.decl == source.Spanned(s) {
		l.typ = want
	}
	if s.Value == nil {
		return
	}
	t := c.value(s.Value, want)
	if !c.assignable(t, want) {
		c.errorf(s.Value.Span(), source.BadQuery, "query %s returns %s, but %s has type %s", nameOf(s.Name), want, c.exprString(s.Value), t)
	}
}

// cancelAcross reports a cancel region R inside the body of a parallel
// for or a hook when R is declared outside that body: the body runs as
// a net of its own (each instance, each action), which cannot reach into
// the net around it.
func (c *checker) cancelAcross(s *syntax.CancelStmt, l *Label) {
	decl := l.Decl()
	if decl == nil {
		return
	}
	rs := decl.Span()
	for _, f := range c.body.loops {
		if f.net.End > f.net.Start && (rs.Start < f.net.Start || rs.End > f.net.End) {
			what := "a parallel for"
			if f.barrier != "" {
				what = f.barrier
			}
			c.errorf(s.Span(), source.BadCancel, "cancel region %s: %s cannot cancel a region around it (each runs on its own); to stop the other instances use join any or join N on the loop, or cancel task", s.Target.Value, what)
			return
		}
	}
}
