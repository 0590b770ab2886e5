// This file implements statements common to workflow and kernel bodies:
// bindings, assignments, calls, conditionals, loops, returns, and the
// reachability analysis behind UnreachableCode and MissingReturn.

package check

import (
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// bodyCtx is the state of the declaration body being checked.
type bodyCtx struct {
	kind    ObjKind
	obj     *Callable
	result  Type
	cond    int  // > 0 inside a conditionally executed statement
	guarded bool // a guard has run: what follows is conditional
	loops   []loopFrame
	labels  []*Label
	arms    []*syntax.Arm        // select arms on signals, for collectLabels
	cancels []*syntax.CancelStmt // cancel task, resolved at the end
	called  []*Callable          // tasks called, for cancel task
	vars    []*Var               // variables to report if unused
	wrote   bool                 // a kernel assigned out[...]
	out     *Var
}

// loopFrame is an enclosing loop, or a barrier (parallel branch, hook)
// that break and continue may not cross.
type loopFrame struct {
	barrier  string // "" for a loop; else what the barrier is
	parallel bool
	broke    bool
	// net, for a parallel for or a hook, is the span of the body that
	// runs as a net of its own: a cancel region inside it can only reach
	// a region declared inside it too.
	net source.Span
}

// stmts checks a statement list and reports whether it terminates (ends
// in return, fail, cancel case, break or continue on every path). The
// first statement after a terminating one is unreachable.
func (c *checker) stmts(list []syntax.Stmt) bool {
	term, reported := false, false
	for _, s := range list {
		if s == nil {
			continue
		}
		if term && !reported {
			c.errorf(s.Span(), source.UnreachableCode, "unreachable code")
			reported = true
		}
		if c.stmt(s) {
			term = true
		}
	}
	return term
}

// block checks a block in a new scope.
func (c *checker) block(b *syntax.Block) bool {
	if b == nil {
		return false
	}
	saved := c.scope
	c.openScope(b)
	t := c.stmts(b.Stmts)
	c.scope = saved
	return t
}

// branch checks a statement that is a branch of a choice: a let in it
// gets its own scope.
func (c *checker) branch(s syntax.Stmt) bool {
	if s == nil {
		return false
	}
	if _, ok := s.(*syntax.LetStmt); ok {
		saved := c.scope
		c.openScope(s)
		t := c.stmt(s)
		c.scope = saved
		return t
	}
	return c.stmt(s)
}

// stmt checks one statement and reports whether it terminates.
func (c *checker) stmt(s syntax.Stmt) bool {
	if c.inKernel() {
		switch s.(type) {
		case *syntax.LetStmt, *syntax.ExprStmt, *syntax.IfStmt, *syntax.ForStmt, *syntax.BlockStmt, *syntax.ReturnStmt:
		case *syntax.WhileStmt:
			c.errorf(s.Span(), source.BadKernel, "while loops are not allowed in kernels; use for j in lo..hi with constant bounds")
			return false
		default:
			c.errorf(s.Span(), source.BadKernel, "%s is not allowed in a kernel", stmtName(s))
			return false
		}
	}
	switch s := s.(type) {
	case *syntax.LetStmt:
		c.letStmt(s)
	case *syntax.ExprStmt:
		c.exprStmt(s)
	case *syntax.ReturnStmt:
		c.returnStmt(s)
		return true
	case *syntax.FailStmt:
		c.message(s.Message, "fail")
		return true
	case *syntax.GuardStmt:
		c.cond(s.Cond, "guard")
		c.message(s.Message, "fail")
		if c.body != nil {
			c.body.guarded = true
		}
	case *syntax.IfStmt:
		return c.ifStmt(s)
	case *syntax.ForStmt:
		c.forStmt(s)
	case *syntax.WhileStmt:
		return c.whileStmt(s)
	case *syntax.BranchStmt:
		c.branchStmt(s)
		return true
	case *syntax.BlockStmt:
		return c.block(s.Block)
	case *syntax.SendStmt:
		c.sendStmt(s)
	default:
		return c.workflowStmt(s)
	}
	return false
}

// stmtName names a statement kind for messages.
func stmtName(s syntax.Stmt) string {
	switch s.(type) {
	case *syntax.GuardStmt:
		return "guard"
	case *syntax.FailStmt:
		return "fail"
	case *syntax.ParallelStmt:
		return "parallel"
	case *syntax.ChooseStmt:
		return "choose"
	case *syntax.MultiStmt:
		return "multi"
	case *syntax.WhileStmt:
		return "while"
	case *syntax.BranchStmt:
		return "break/continue"
	case *syntax.SelectStmt:
		return "select"
	case *syntax.CancelStmt:
		return "cancel"
	case *syntax.RegionStmt:
		return "region"
	case *syntax.CriticalStmt:
		return "critical"
	case *syntax.InterleaveStmt:
		return "interleave"
	case *syntax.MilestoneStmt:
		return "milestone"
	case *syntax.FlowStmt:
		return "flow"
	case *syntax.RouteStmt:
		return "route"
	case *syntax.HookStmt:
		return "hook"
	case *syntax.SignalDecl:
		return "signal"
	case *syntax.QueryDecl:
		return "query"
	case *syntax.SendStmt:
		return "send"
	}
	return "this statement"
}

// cond checks a condition.
func (c *checker) cond(e syntax.Expr, what string) {
	if e == nil {
		return
	}
	t := c.value(e, TypBool)
	if !isInvalid(t) && !isBool(t) {
		c.errorf(e.Span(), source.BadCondition, "%s condition must be bool, found %s (type %s)", what, c.exprString(e), t)
	}
}

// message checks the message of fail.
func (c *checker) message(e syntax.Expr, what string) {
	if e == nil {
		return
	}
	t := c.value(e, TypString)
	if !isInvalid(t) && !isString(t) {
		c.errorf(e.Span(), source.TypeMismatch, "%s message must be a string, found %s", what, t)
	}
}

func (c *checker) letStmt(s *syntax.LetStmt) {
	var declT Type
	if s.Type != nil {
		declT = c.typExpr(s.Type)
	}
	vt, kind := c.effectCall(s.Value, declT)
	if vt == TypVoid {
		c.errorf(s.Value.Span(), source.TypeMismatch, "%s has no result to bind", c.exprString(s.Value))
		vt = TypInvalid
	}
	t := declT
	if declT != nil {
		if !c.assignable(vt, declT) {
			c.errorf(s.Value.Span(), source.TypeMismatch, "cannot use %s (type %s) as %s in %s %s", c.exprString(s.Value), vt, declT, s.Keyword, nameOf(s.Name))
		}
	} else {
		t = vt
		if t == TypNone {
			c.errorf(s.Value.Span(), source.CannotInfer, "cannot infer the type of none; declare it: %s %s: T? = none", s.Keyword, nameOf(s.Name))
			t = TypInvalid
		}
	}
	if c.inKernel() && !isKernelScalar(t) {
		c.errorf(nameSpan(s.Name, s), source.BadKernel, "%s has type %s; kernel values are f32, i32, u32 or bool", nameOf(s.Name), t)
		t = TypInvalid
	}
	if s.Name != nil {
		v := &Var{object: object{name: s.Name.Value, kind: ObjVar, typ: t, file: c.file, span: s.Name.Span(), decl: s}, Mutable: s.Keyword == "var", warn: true}
		c.declare(v, s.Name)
		if c.body != nil {
			c.body.vars = append(c.body.vars, v)
		}
	}
	c.clauses(s.Clauses, kind)
}

func (c *checker) exprStmt(s *syntax.ExprStmt) {
	if s.X == nil {
		return
	}
	if s.Value != nil {
		lt := c.assignTarget(s.X)
		vt, kind := c.effectCall(s.Value, lt)
		if vt == TypVoid {
			c.errorf(s.Value.Span(), source.TypeMismatch, "%s has no result to assign", c.exprString(s.Value))
		} else if !c.assignable(vt, lt) {
			c.errorf(s.Value.Span(), source.TypeMismatch, "cannot use %s (type %s) as %s in assignment", c.exprString(s.Value), vt, lt)
		}
		c.clauses(s.Clauses, kind)
		return
	}
	call, isCall := s.X.(*syntax.CallExpr)
	if !isCall || call.Fun == nil {
		t := c.expr(s.X, nil)
		if !isInvalid(t) {
			c.errorf(s.X.Span(), source.MisplacedStatement, "%s is not a statement; only calls and assignments are", c.exprString(s.X))
		}
		c.clauses(s.Clauses, callNone)
		return
	}
	t, kind := c.effectCall(call, nil)
	if kind == callPure && !isInvalid(t) && !c.inKernel() {
		c.errorf(s.X.Span(), source.MisplacedStatement, "result of %s is not used; only task and workflow calls have effects", c.exprString(s.X))
	} else if kind == callPure && c.inKernel() {
		c.errorf(s.X.Span(), source.BadKernel, "result of %s is not used", c.exprString(s.X))
	}
	c.clauses(s.Clauses, kind)
}

// assignTarget checks the left side of x = e and returns its type.
func (c *checker) assignTarget(x syntax.Expr) Type {
	root := x
	for {
		switch r := root.(type) {
		case *syntax.IndexExpr:
			root = r.X
			continue
		case *syntax.SelectorExpr:
			root = r.X
			continue
		case *syntax.ParenExpr:
			root = r.X
			continue
		}
		break
	}
	id, ok := root.(*syntax.Ident)
	if !ok || root == nil {
		c.expr(x, nil)
		c.errorf(x.Span(), source.NotAssignable, "cannot assign to %s", c.exprString(x))
		return TypInvalid
	}
	obj := c.lookup(id.Name)
	if obj == nil {
		c.undefined(id)
		return TypInvalid
	}
	v, isVar := obj.(*Var)
	if root == x {
		c.info.Uses[id] = obj
		if !isVar {
			c.errorf(x.Span(), source.NotAssignable, "cannot assign to %s %s", obj.Kind(), id.Name)
			return TypInvalid
		}
		c.info.Types[id] = v.typ
	}
	switch {
	case !isVar:
		c.errorf(id.Span(), source.NotAssignable, "cannot assign to %s: %s is a %s", c.exprString(x), id.Name, obj.Kind())
		return TypInvalid
	case !v.Mutable && v.decl != nil && isParam(v.decl):
		c.errorf(x.Span(), source.NotAssignable, "cannot assign to %s: parameter %s is read-only", c.exprString(x), id.Name)
	case !v.Mutable && isLoop(v.decl):
		c.errorf(x.Span(), source.NotAssignable, "cannot assign to %s: %s is a loop variable", c.exprString(x), id.Name)
	case !v.Mutable && v.decl != nil && !isLet(v.decl):
		c.errorf(x.Span(), source.NotAssignable, "cannot assign to %s: %s is read-only", c.exprString(x), id.Name)
	case !v.Mutable:
		c.errorf(x.Span(), source.NotAssignable, "cannot assign to %s: %s is declared with let; use var", c.exprString(x), id.Name)
	}
	if c.body != nil && c.body.out != nil && v == c.body.out {
		c.body.wrote = true
	}
	if root == x {
		if !isVar {
			return TypInvalid
		}
		return v.typ
	}
	used := isVar && v.used
	t := c.expr(x, nil)
	if isVar {
		v.used = used // writing through x[i] or x.f is not a read of x
	}
	return t
}

func isLoop(d source.Spanned) bool {
	_, ok := d.(*syntax.ForStmt)
	return ok
}

func isLet(d source.Spanned) bool {
	_, ok := d.(*syntax.LetStmt)
	return ok
}

func isParam(d source.Spanned) bool {
	_, ok := d.(*syntax.Param)
	return ok
}

func (c *checker) returnStmt(s *syntax.ReturnStmt) {
	b := c.body
	if b == nil {
		return
	}
	c.returnInParallelFor(s)
	want := b.result
	what := "workflow " + b.obj.name
	if b.kind == ObjKernel {
		want = TypInvalid
		if b.out != nil {
			if l, ok := Underlying(b.out.typ).(*List); ok {
				want = l.Elem
			}
		}
		what = "kernel " + b.obj.name
	}
	if s.Value == nil {
		if isInvalid(want) {
			return
		}
		if want != TypVoid && b.kind != ObjKernel {
			c.errorf(s.Span(), source.ReturnValue, "missing return value: %s returns %s", what, want)
		} else if b.kind == ObjKernel {
			c.errorf(s.Span(), source.ReturnValue, "missing return value: %s returns an element of type %s", what, want)
		}
		return
	}
	if want == TypVoid {
		c.value(s.Value, nil)
		c.errorf(s.Value.Span(), source.ReturnValue, "too many return values: %s has no result", what)
		return
	}
	t := c.value(s.Value, want)
	if !c.assignable(t, want) {
		c.errorf(s.Value.Span(), source.TypeMismatch, "cannot use %s (type %s) as %s in return", c.exprString(s.Value), t, want)
	}
}

func (c *checker) ifStmt(s *syntax.IfStmt) bool {
	c.cond(s.Cond, "if")
	c.enterCond()
	defer c.leaveCond()
	then := c.block(s.Then)
	switch {
	case s.ElseIf != nil:
		return c.ifStmt(s.ElseIf) && then
	case s.Else != nil:
		return c.block(s.Else) && then
	}
	return false
}

func (c *checker) enterCond() {
	if c.body != nil {
		c.body.cond++
	}
}

func (c *checker) leaveCond() {
	if c.body != nil {
		c.body.cond--
	}
}

func (c *checker) whileStmt(s *syntax.WhileStmt) bool {
	c.cond(s.Cond, "while")
	c.enterCond()
	defer c.leaveCond()
	b := c.body
	if b == nil {
		return false
	}
	b.loops = append(b.loops, loopFrame{})
	c.block(s.Body)
	broke := b.loops[len(b.loops)-1].broke
	b.loops = b.loops[:len(b.loops)-1]
	lit, ok := s.Cond.(*syntax.BasicLit)
	return ok && lit.Kind == syntax.BoolLit && lit.Value == "true" && !broke
}

func (c *checker) branchStmt(s *syntax.BranchStmt) {
	b := c.body
	if b == nil {
		return
	}
	for i := len(b.loops) - 1; i >= 0; i-- {
		f := &b.loops[i]
		if f.barrier != "" {
			c.errorf(s.Span(), source.MisplacedStatement, "%s cannot leave %s", s.Keyword, f.barrier)
			return
		}
		if f.parallel {
			c.errorf(s.Span(), source.MisplacedStatement, "%s is not allowed in a parallel for: its instances run at once", s.Keyword)
			return
		}
		if s.Keyword == "break" {
			f.broke = true
		}
		return
	}
	c.errorf(s.Span(), source.MisplacedStatement, "%s is not in a loop", s.Keyword)
}

// forStmt checks a sequential or parallel for loop, or a kernel's
// constant range loop.
func (c *checker) forStmt(s *syntax.ForStmt) {
	b := c.body
	var vt Type = TypInvalid
	if r, ok := s.Iter.(*syntax.BinaryExpr); ok && r.Op == ".." && r.X != nil && r.Y != nil {
		var it Type = TypInt
		if c.inKernel() {
			it = TypI32
		}
		lo := c.value(r.X, it)
		hi := c.value(r.Y, it)
		c.info.Types[r] = &List{Elem: it}
		switch {
		case c.inKernel():
			_, ok1 := ConstInt(r.X)
			_, ok2 := ConstInt(r.Y)
			if !ok1 || !ok2 {
				c.errorf(r.Span(), source.KernelLoopBound, "kernel loop bounds must be constant integers, so the loop can be unrolled on the device")
			}
			vt = TypI32
		case !isInvalid(lo) && !isInteger(lo):
			c.errorf(r.X.Span(), source.BadOperand, "range bound %s must be an integer, found %s", c.exprString(r.X), lo)
		case !isInvalid(hi) && !isInteger(hi):
			c.errorf(r.Y.Span(), source.BadOperand, "range bound %s must be an integer, found %s", c.exprString(r.Y), hi)
		default:
			vt = lo
		}
	} else if c.inKernel() {
		c.expr(s.Iter, nil)
		c.errorf(nodeSpan(s.Iter, s), source.KernelLoopBound, "kernels can only loop over a constant range: for j in 0..8")
	} else if s.Iter != nil {
		t := c.value(s.Iter, nil)
		switch u := Underlying(t).(type) {
		case *List:
			vt = u.Elem
		case *Map:
			vt = u.Key
		default:
			if !isInvalid(t) {
				c.errorf(s.Iter.Span(), source.BadOperand, "cannot range over %s (type %s)", c.exprString(s.Iter), t)
			}
		}
	}
	if s.Parallel && c.inKernel() {
		c.errorf(s.Span(), source.BadKernel, "parallel for is not allowed in kernels: the kernel body is already data-parallel")
	}
	if s.Limit != nil {
		t := c.value(s.Limit, TypInt)
		if !isInvalid(t) && !isInteger(t) {
			c.errorf(s.Limit.Span(), source.BadJoin, "limit must be an int, found %s", t)
		} else if n, ok := ConstInt(s.Limit); ok && n < 1 {
			c.errorf(s.Limit.Span(), source.BadJoin, "limit must be at least 1, found %d", n)
		}
	}
	if s.Join != nil {
		if !s.Parallel {
			c.errorf(s.Join.Span(), source.BadJoin, "join applies only to a parallel for")
		} else {
			max := -1
			if l, ok := s.Iter.(*syntax.ListLit); ok && s.More == nil {
				max = len(l.Elems)
			}
			c.join(s.Join, joinFor, max)
		}
	}
	if s.More != nil {
		c.moreOn(s.More, vt)
	}

	saved := c.scope
	c.openScope(s)
	if s.Var != nil {
		v := &Var{object: object{name: s.Var.Value, kind: ObjVar, typ: vt, file: c.file, span: s.Var.Span(), decl: s}, warn: true}
		c.declare(v, s.Var)
		if b != nil {
			b.vars = append(b.vars, v)
		}
	}
	c.enterCond()
	if b != nil {
		lf := loopFrame{parallel: s.Parallel}
		if s.Parallel && s.Body != nil {
			lf.net = s.Body.Span()
		}
		b.loops = append(b.loops, lf)
	}
	c.block(s.Body)
	if b != nil {
		b.loops = b.loops[:len(b.loops)-1]
	}
	c.leaveCond()
	c.scope = saved
}

// joinSite is where a join clause stands; what it may say depends on it.
type joinSite uint8

const (
	joinParallel joinSite = iota // parallel { } join
	joinFor                      // for ... parallel { } join: the count may be computed
	joinArc                      // a flow arc from several steps
	joinThreads                  // a flow arc from one step: join N merges N threads
)

// join checks join all | any | active | N [keep] at site; max is the
// number of branches, or -1 when unknown.
func (c *checker) join(j *syntax.Join, site joinSite, max int) {
	if j == nil {
		return
	}
	if j.Kind == "active" && site != joinArc {
		c.errorf(j.Span(), source.BadJoin, "join active applies only to a flow arc from several steps: it waits for the inputs that can still be reached")
	}
	if j.Keep {
		switch {
		case site != joinParallel && site != joinFor:
			c.errorf(j.Span(), source.BadJoin, "keep applies only to the join of a parallel or a parallel for")
		case j.Kind == "all" || j.Kind == "active":
			c.errorf(j.Span(), source.BadJoin, "keep needs join any or join N: with join %s no branch is left running", j.Kind)
		}
	}
	if site == joinThreads && j.Count == nil {
		c.errorf(j.Span(), source.BadJoin, "an arc from one step joins its threads: write join N for how many to merge")
		return
	}
	if j.Count == nil {
		return
	}
	t := c.value(j.Count, TypInt)
	if isInvalid(t) {
		return
	}
	n, ok := ConstInt(j.Count)
	switch {
	case !isInteger(t):
		c.errorf(j.Count.Span(), source.BadJoin, "join count must be an int, found %s", t)
	case !ok && site != joinFor:
		c.errorf(j.Count.Span(), source.BadJoin, "join count must be a constant int, found %s", c.exprString(j.Count))
	case !ok:
		// A parallel for may compute how many instances to wait for
		// (WCP 36); the engine checks the value when the loop starts.
	case n < 1:
		c.errorf(j.Count.Span(), source.BadJoin, "join count must be at least 1, found %d", n)
	case site == joinThreads && n > maxThreads:
		c.errorf(j.Count.Span(), source.BadJoin, "join %d merges more threads than a flow may run at once (%d)", n, maxThreads)
	case max >= 0 && n > int64(max):
		c.errorf(j.Count.Span(), source.BadJoin, "join %d waits for more branches than there are (%d)", n, max)
	}
}

// maxThreads bounds a flow's thread split and merge (WCP 41, 42), so
// that the soundness check can count the threads.
const maxThreads = 16

// threads checks an arc's "* N": a constant thread count.
func (c *checker) threads(x syntax.Expr) {
	t := c.value(x, TypInt)
	if isInvalid(t) {
		return
	}
	n, ok := ConstInt(x)
	switch {
	case !isInteger(t) || !ok:
		c.errorf(x.Span(), source.BadFlow, "thread count must be a constant int, found %s", c.exprString(x))
	case n < 1 || n > maxThreads:
		c.errorf(x.Span(), source.BadFlow, "thread count must be between 1 and %d, found %d", maxThreads, n)
	}
}

// moreOn checks "more on S" of a parallel for with elements of type elem:
// S must be a signal of the workflow with one parameter, an element.
func (c *checker) moreOn(n *syntax.Name, elem Type) {
	l := c.findLabel(ObjSignal, n.Value)
	if l == nil {
		d := c.errorf(n.Span(), source.UndefinedName, "more on %s: no signal %s is declared in this workflow", n.Value, n.Value)
		c.suggestFix(d, n.Span(), n.Value, c.labelNames(ObjSignal))
		return
	}
	c.info.TypeUses[n] = l
	sig, _ := l.typ.(*Signature)
	if sig == nil {
		return
	}
	if len(sig.Params) != 1 {
		c.errorf(n.Span(), source.BadJoin, "more on %s: the signal must carry one value, an element of the loop, but it has %d parameters", n.Value, len(sig.Params))
		return
	}
	if pt := sig.Params[0].Type(); !c.assignable(pt, elem) {
		c.errorf(n.Span(), source.TypeMismatch, "more on %s: the signal carries %s, the loop's elements are %s", n.Value, pt, elem)
	}
}

// nodeSpan is the span of a possibly missing node.
func nodeSpan(n source.Spanned, fallback source.Spanned) source.Span {
	if n != nil {
		return n.Span()
	}
	return fallback.Span()
}
