// This file implements the textual dump of the IR printed by `knhk ir`.

package ir

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// String returns the text dump of p.
func (p *Program) String() string {
	var sb strings.Builder
	p.Print(&sb)
	return sb.String()
}

// Print writes the text dump of p to w. The dump is deterministic: it
// depends only on p, so it is compared as text in golden tests. The
// printer tolerates out-of-range indices (it prints them as numbers) and
// nil entries so that it can show a program the verifier rejects.
func (p *Program) Print(w io.Writer) {
	pr := &printer{p: p}
	pr.program()
	io.WriteString(w, pr.sb.String())
}

type printer struct {
	p  *Program
	sb strings.Builder
}

func (pr *printer) f(format string, args ...any) { fmt.Fprintf(&pr.sb, format, args...) }

func (pr *printer) program() {
	p := pr.p
	pr.f("package %s\n", p.Package)
	for i, f := range p.Files {
		pr.f("file %d %s size %d\n", i, strconv.Quote(f.Name), f.Size)
	}
	for i := range p.Types {
		t := &p.Types[i]
		var sb strings.Builder
		p.writeTypeBody(&sb, t, 1)
		name := ""
		if t.Name != "" {
			name = " " + t.Name
		}
		pr.f("type t%d%s = %s\n", int(FirstComposite)+i, name, sb.String())
	}
	for i, t := range p.Tasks {
		pr.sb.WriteByte('\n')
		if t == nil {
			pr.f("task %d nil\n", i)
			continue
		}
		pr.task(i, t)
	}
	for i, k := range p.Kernels {
		pr.sb.WriteByte('\n')
		if k == nil {
			pr.f("kernel %d nil\n", i)
			continue
		}
		pr.f("kernel %d %s(%s) -> %s body %s%s\n", i, k.Name, pr.params(k.Params), p.TypeString(k.Result), pr.fn(k.Body), pr.loc(k.Loc))
	}
	for i, f := range p.Funcs {
		pr.sb.WriteByte('\n')
		if f == nil {
			pr.f("func f%d nil\n", i)
			continue
		}
		pr.fun(i, f)
	}
	for i, n := range p.Nets {
		pr.sb.WriteByte('\n')
		if n == nil {
			pr.f("workflow n%d nil\n", i)
			continue
		}
		pr.net(i, n)
	}
}

func (pr *printer) loc(l Loc) string {
	if !l.Known() {
		return ""
	}
	return fmt.Sprintf("  @%d:%d-%d", l.File, l.Span.Start, l.Span.End)
}

func (pr *printer) params(ps []Param) string {
	var parts []string
	for _, pa := range ps {
		parts = append(parts, pa.Name+": "+pr.p.TypeString(pa.Type))
	}
	return strings.Join(parts, ", ")
}

func (pr *printer) result(t TypeID) string {
	if t == Void {
		return ""
	}
	return " -> " + pr.p.TypeString(t)
}

func (pr *printer) fn(f FuncID) string {
	if f == NoFunc {
		return "-"
	}
	if f >= 0 && int(f) < len(pr.p.Funcs) && pr.p.Funcs[f] != nil {
		return fmt.Sprintf("f%d:%s", f, pr.p.Funcs[f].Name)
	}
	return fmt.Sprintf("f%d", f)
}

func (pr *printer) fns(fs []FuncID) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = pr.fn(f)
	}
	return strings.Join(parts, ", ")
}

func (pr *printer) task(i int, t *Task) {
	b := t.Binding
	pr.f("task %d %s(%s)%s %s", i, t.Name, pr.params(t.Params), pr.result(t.Result), b.Kind)
	if b.Method != "" {
		pr.f(" %s", b.Method)
	}
	pr.f(" %s", strconv.Quote(b.Target))
	for _, a := range b.Args {
		pr.f(" %s", strconv.Quote(a))
	}
	pr.f(" retry %d backoff %s timeout %s", t.Retry, pr.fn(t.Backoff), pr.fn(t.Timeout))
	if t.Undo != nil {
		pr.f(" undo %s", pr.call(t.Undo, 0))
	}
	pr.f("%s\n", pr.loc(t.Loc))
}

func (pr *printer) callee(c *Call) string {
	p := pr.p
	ok := c.Target >= 0
	switch c.Kind {
	case CallTask:
		if ok && int(c.Target) < len(p.Tasks) {
			return p.Tasks[c.Target].Name
		}
	case CallWorkflow:
		if ok && int(c.Target) < len(p.Nets) {
			return p.Nets[c.Target].Name
		}
	case CallKernel:
		if ok && int(c.Target) < len(p.Kernels) {
			return p.Kernels[c.Target].Name
		}
	}
	return fmt.Sprintf("#%d", c.Target)
}

func (pr *printer) call(c *Call, depth int) string {
	if c == nil {
		return "nil"
	}
	if depth > 8 {
		return "..."
	}
	s := fmt.Sprintf("%s %s(%s)", c.Kind, pr.callee(c), pr.fns(c.Args))
	if c.Retry >= 0 {
		s += fmt.Sprintf(" retry %d", c.Retry)
	}
	if c.Backoff != NoFunc {
		s += " backoff " + pr.fn(c.Backoff)
	}
	if c.Timeout != NoFunc {
		s += " timeout " + pr.fn(c.Timeout)
	}
	if c.Undo != nil {
		s += " undo " + pr.call(c.Undo, depth+1)
	}
	return s
}

func (pr *printer) reg(f *Func, r Reg) string { return "r" + strconv.Itoa(int(r)) }

func (pr *printer) regs(f *Func, rs []Reg) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = pr.reg(f, r)
	}
	return strings.Join(parts, ", ")
}

func (pr *printer) regType(f *Func, r Reg) string {
	if r >= 0 && int(r) < len(f.Regs) {
		return pr.p.TypeString(f.Regs[r])
	}
	return "?"
}

func (pr *printer) fun(i int, f *Func) {
	pr.f("func f%d %s(%s)%s", i, f.Name, pr.params(f.Params), pr.result(f.Result))
	if f.Scope >= 0 {
		pr.f(" scope %d", f.Scope)
	}
	pr.f("%s\n", pr.loc(f.Loc))
	for bi, b := range f.Blocks {
		if b == nil {
			pr.f("  b%d nil\n", bi)
			continue
		}
		pr.f("  b%d", bi)
		if len(b.Params) > 0 {
			var parts []string
			for _, r := range b.Params {
				parts = append(parts, pr.reg(f, r)+": "+pr.regType(f, r))
			}
			pr.f("(%s)", strings.Join(parts, ", "))
		}
		pr.f(":\n")
		for k := range b.Instrs {
			in := &b.Instrs[k]
			pr.f("    %s: %s = %s%s\n", pr.reg(f, in.Dst), pr.regType(f, in.Dst), pr.instr(f, in), pr.loc(in.Loc))
		}
		pr.f("    %s%s\n", pr.term(f, &b.Term), pr.loc(b.Term.Loc))
	}
}

func (pr *printer) constant(c Const) string {
	switch c.Kind {
	case ConstNone:
		return "none"
	case ConstBool:
		return strconv.FormatBool(c.Bool)
	case ConstInt:
		return strconv.FormatInt(c.Int, 10)
	case ConstFloat:
		return strconv.FormatFloat(c.Float, 'g', -1, 64)
	case ConstString:
		return strconv.Quote(c.Str)
	}
	return fmt.Sprintf("const(%d)", c.Kind)
}

func (pr *printer) arg(f *Func, in *Instr, i int) string {
	if i < len(in.Args) {
		return pr.reg(f, in.Args[i])
	}
	return "?"
}

func (pr *printer) instr(f *Func, in *Instr) string {
	p := pr.p
	switch in.Op {
	case OpConst:
		return "const " + pr.constant(in.Const)
	case OpVar:
		name := ""
		if f.Scope >= 0 && int(f.Scope) < len(p.Nets) {
			if n := p.Nets[f.Scope]; in.Index >= 0 && int(in.Index) < len(n.Vars) {
				name = " " + n.Vars[in.Index].Name
			}
		}
		return fmt.Sprintf("var %d%s", in.Index, name)
	case OpBinary:
		return fmt.Sprintf("%s %s %s", pr.arg(f, in, 0), BinOp(in.Sub), pr.arg(f, in, 1))
	case OpUnary:
		return fmt.Sprintf("%s%s", UnOp(in.Sub), pr.arg(f, in, 0))
	case OpConvert:
		return fmt.Sprintf("convert %s", pr.arg(f, in, 0))
	case OpField:
		name := "#" + strconv.Itoa(int(in.Index))
		if len(in.Args) > 0 && in.Args[0] >= 0 && int(in.Args[0]) < len(f.Regs) {
			if t := p.Type(f.Regs[in.Args[0]]); t != nil && t.Kind == KindRecord && in.Index >= 0 && int(in.Index) < len(t.Fields) {
				name = t.Fields[in.Index].Name
			}
		}
		return fmt.Sprintf("%s.%s", pr.arg(f, in, 0), name)
	case OpIndex:
		return fmt.Sprintf("%s[%s]", pr.arg(f, in, 0), pr.arg(f, in, 1))
	case OpMakeList:
		return "list [" + pr.regs(f, in.Args) + "]"
	case OpMakeRecord:
		return "record {" + pr.regs(f, in.Args) + "}"
	case OpMakeMap:
		var parts []string
		for i := 0; i+1 < len(in.Args); i += 2 {
			parts = append(parts, pr.reg(f, in.Args[i])+": "+pr.reg(f, in.Args[i+1]))
		}
		return "map [" + strings.Join(parts, ", ") + "]"
	case OpCallBuiltin:
		n := min(max(int(in.Index), 0), len(in.Args))
		s := fmt.Sprintf("builtin %s(%s)", in.Name, pr.regs(f, in.Args[:n]))
		if in.Callee != int32(NoFunc) {
			s += " lambda " + pr.fn(FuncID(in.Callee))
			if n < len(in.Args) {
				s += " capture (" + pr.regs(f, in.Args[n:]) + ")"
			}
		}
		return s
	case OpSetField:
		name := "#" + strconv.Itoa(int(in.Index))
		if len(in.Args) > 0 && in.Args[0] >= 0 && int(in.Args[0]) < len(f.Regs) {
			if t := p.Type(f.Regs[in.Args[0]]); t != nil && t.Kind == KindRecord && in.Index >= 0 && int(in.Index) < len(t.Fields) {
				name = t.Fields[in.Index].Name
			}
		}
		return fmt.Sprintf("%s with .%s = %s", pr.arg(f, in, 0), name, pr.arg(f, in, 1))
	case OpSetIndex:
		return fmt.Sprintf("%s with [%s] = %s", pr.arg(f, in, 0), pr.arg(f, in, 1), pr.arg(f, in, 2))
	case OpCallFunc:
		return fmt.Sprintf("call %s(%s)", pr.fn(FuncID(in.Callee)), pr.regs(f, in.Args))
	case OpCallKernel:
		name := fmt.Sprintf("#%d", in.Callee)
		if in.Callee >= 0 && int(in.Callee) < len(p.Kernels) {
			name = p.Kernels[in.Callee].Name
		}
		return fmt.Sprintf("kernel %s(%s)", name, pr.regs(f, in.Args))
	case OpMilestone:
		return "milestone " + in.Name
	}
	return in.Op.String()
}

func (pr *printer) term(f *Func, t *Term) string {
	succ := func(i int) string {
		if i >= len(t.Succs) {
			return "?"
		}
		s := t.Succs[i]
		if len(s.Args) == 0 {
			return fmt.Sprintf("b%d", s.Block)
		}
		return fmt.Sprintf("b%d(%s)", s.Block, pr.regs(f, s.Args))
	}
	switch t.Op {
	case TermJump:
		return "jump " + succ(0)
	case TermBranch:
		return fmt.Sprintf("branch %s %s %s", pr.reg(f, t.Value), succ(0), succ(1))
	case TermReturn:
		return "return " + pr.reg(f, t.Value)
	}
	return "unterminated"
}

func (pr *printer) place(n *Net, i int32) string {
	if i >= 0 && int(i) < len(n.Places) && n.Places[i] != nil {
		return fmt.Sprintf("p%d:%s", i, n.Places[i].Name)
	}
	return fmt.Sprintf("p%d", i)
}

func (pr *printer) trans(n *Net, i int32) string {
	if i >= 0 && int(i) < len(n.Transitions) && n.Transitions[i] != nil {
		return fmt.Sprintf("t%d:%s", i, n.Transitions[i].Name)
	}
	return fmt.Sprintf("t%d", i)
}

func (pr *printer) variable(n *Net, i int32) string {
	if i >= 0 && int(i) < len(n.Vars) {
		return fmt.Sprintf("v%d:%s", i, n.Vars[i].Name)
	}
	return fmt.Sprintf("v%d", i)
}

func (pr *printer) net(i int, n *Net) {
	p := pr.p
	pr.f("workflow n%d %s(%s)%s start %s end %s%s\n", i, n.Name, pr.params(n.Params), pr.result(n.Result),
		pr.place(n, n.Start), pr.place(n, n.End), pr.loc(n.Loc))
	for vi, v := range n.Vars {
		pr.f("  var v%d %s: %s%s\n", vi, v.Name, p.TypeString(v.Type), pr.loc(v.Loc))
	}
	for _, s := range n.Signals {
		if s == nil {
			continue
		}
		pr.f("  signal %s(%s)", s.Name, pr.params(s.Params))
		if s.Transient {
			pr.f(" transient")
		}
		pr.f("%s\n", pr.loc(s.Loc))
	}
	for _, q := range n.Queries {
		if q == nil {
			continue
		}
		pr.f("  query %s = %s%s\n", q.Name, pr.fn(q.Value), pr.loc(q.Loc))
	}
	for _, h := range n.Hooks {
		if h == nil {
			continue
		}
		pr.f("  hook %s on %s", h.Name, h.Event)
		switch h.Event {
		case HookComplete:
			name := fmt.Sprintf("#%d", h.Task)
			if h.Task >= 0 && int(h.Task) < len(p.Tasks) && p.Tasks[h.Task] != nil {
				name = p.Tasks[h.Task].Name
			} else if h.Task == -1 && h.Label != "" {
				name = "workflow " + h.Label
			}
			pr.f(" %s", name)
		case HookSignal:
			pr.f(" %s", h.Label)
		}
		if h.Cond != NoFunc {
			pr.f(" when %s", pr.fn(h.Cond))
		}
		pr.f(" -> %s", pr.call(h.Action, 0))
		if len(h.Bind) > 0 {
			var bs []string
			for _, x := range h.Bind {
				if x < 0 {
					bs = append(bs, "-")
				} else {
					bs = append(bs, pr.variable(n, x))
				}
			}
			pr.f(" shares (%s)", strings.Join(bs, ", "))
		}
		pr.f("%s\n", pr.loc(h.Loc))
	}
	for pi, pl := range n.Places {
		if pl == nil {
			pr.f("  place p%d nil\n", pi)
			continue
		}
		pr.f("  place p%d %s", pi, pl.Name)
		if pl.Init != 0 {
			pr.f(" init %d", pl.Init)
		}
		pr.f("%s\n", pr.loc(pl.Loc))
	}
	for ri, r := range n.Regions {
		if r == nil {
			continue
		}
		var ps, ts []string
		for _, x := range r.Places {
			ps = append(ps, pr.place(n, x))
		}
		for _, x := range r.Transitions {
			ts = append(ts, pr.trans(n, x))
		}
		pr.f("  region r%d %s places [%s] transitions [%s]%s\n", ri, r.Name, strings.Join(ps, " "), strings.Join(ts, " "), pr.loc(r.Loc))
	}
	byTrans := make([][]*Arc, len(n.Transitions))
	for _, a := range n.Arcs {
		if a != nil && a.Trans >= 0 && int(a.Trans) < len(n.Transitions) {
			byTrans[a.Trans] = append(byTrans[a.Trans], a)
		}
	}
	for ti, t := range n.Transitions {
		if t == nil {
			pr.f("  transition t%d nil\n", ti)
			continue
		}
		pr.f("  transition t%d %s %s", ti, t.Name, pr.action(n, t))
		if t.Join != JoinAnd {
			pr.f(" join %s", t.Join)
			if t.Join == JoinPartial {
				pr.f(" %d", t.JoinN)
			}
			if t.Join == JoinDrain {
				pr.f(" r%d", t.Region)
			}
		}
		if t.Split != SplitAnd {
			pr.f(" split %s", t.Split)
		}
		switch t.Cancel {
		case CancelNone:
		case CancelCase:
			pr.f(" cancel case")
		case CancelRegion:
			pr.f(" cancel region r%d", t.Region)
		case CancelTask:
			pr.f(" cancel task %d region r%d", t.Task, t.Region)
		default:
			pr.f(" cancel %s", t.Cancel)
		}
		pr.f("%s\n", pr.loc(t.Loc))
		for _, a := range byTrans[ti] {
			dir := "in "
			if a.Out {
				dir = "out"
			}
			pr.f("    %s %s", dir, pr.place(n, a.Place))
			if a.Weight != 1 {
				pr.f(" x%d", a.Weight)
			}
			if a.Guard != NoFunc {
				pr.f(" if %s", pr.fn(a.Guard))
			}
			pr.f("%s\n", pr.loc(a.Loc))
		}
	}
	// Arcs whose transition does not exist are shown too, so that a dump of
	// a malformed net hides nothing.
	for _, a := range n.Arcs {
		if a != nil && (a.Trans < 0 || int(a.Trans) >= len(n.Transitions)) {
			pr.f("  arc %s %s out=%v\n", pr.trans(n, a.Trans), pr.place(n, a.Place), a.Out)
		}
	}
}

func (pr *printer) action(n *Net, t *Transition) string {
	s := t.Kind.String()
	res := ""
	if t.Result >= 0 {
		res = " -> " + pr.variable(n, t.Result)
	}
	switch t.Kind {
	case TTask, TWorkflow, TKernel:
		if t.Call != nil {
			s = pr.call(t.Call, 0)
		}
	case TRoute:
		var cs []string
		for _, c := range t.Candidates {
			cs = append(cs, pr.call(c, 0))
		}
		s = fmt.Sprintf("route %s(%s) among {%s} reward %s", t.Label, pr.fns(t.Features), strings.Join(cs, "; "), pr.fn(t.Value))
	case TTimer:
		s = "timer " + pr.fn(t.Value)
	case TSignal:
		var bs []string
		for _, v := range t.Bind {
			bs = append(bs, pr.variable(n, v))
		}
		s = fmt.Sprintf("signal %s(%s)", t.Label, strings.Join(bs, ", "))
	case TAssign, TFail, TReturn:
		s += " " + pr.fn(t.Value)
	case TMulti:
		s = "multi items " + pr.fn(t.Value)
		if t.Call != nil {
			s += " body " + pr.call(t.Call, 0)
		}
		s += " limit " + pr.fn(t.Limit) + " quorum " + pr.fn(t.Quorum)
		if t.Keep {
			s += " keep"
		}
		if t.Label != "" {
			s += " more " + t.Label
		}
		var shared []string
		for _, v := range t.Bind {
			if v >= 0 {
				shared = append(shared, pr.variable(n, v))
			}
		}
		if len(shared) > 0 {
			s += " shares " + strings.Join(shared, ", ")
		}
	case TMarker:
		s = fmt.Sprintf("%s %s", t.Marker, t.Label)
	case TSend:
		s = pr.sendString(t)
	}
	return s + res
}
