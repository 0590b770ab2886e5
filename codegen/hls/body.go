// This file implements the translation of one IR function of a kernel
// (its body, or a fn it calls) into a structured C++ function that
// computes one element: if/else from branches, counted for loops from
// loop headers, block parameters as variables assigned on each edge.

package hls

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/knhk/knhk/compiler/ir"
)

// ctype is the C++ type of a kernel scalar kind.
func ctype(k ir.Kind) string {
	switch k {
	case ir.KindF32:
		return "float"
	case ir.KindI32:
		return "int32_t"
	case ir.KindU32:
		return "uint32_t"
	case ir.KindBool:
		return "bool"
	}
	return ""
}

// funcName is the C++ name of IR function id.
func funcName(id ir.FuncID) string { return fmt.Sprintf("knhk_f%d", id) }

// body writes IR functions as C++.
type body struct {
	g       *kgen
	fn      *ir.Func
	c       *cfg
	sb      strings.Builder
	depth   int
	emitted []int
	// bufs maps a parameter register to the local copy the top function
	// partitions; nothing here reads it, the caller passes the copy.
}

func (b *body) line(format string, args ...any) {
	b.sb.WriteString(strings.Repeat("  ", b.depth))
	fmt.Fprintf(&b.sb, format, args...)
	b.sb.WriteByte('\n')
}

func reg(r ir.Reg) string { return fmt.Sprintf("r%d", r) }

func (b *body) kind(r ir.Reg) ir.Kind { return b.g.p.KindOf(b.fn.Regs[r]) }

// elemKind is the element kind of list type t.
func (g *kgen) elemKind(t ir.TypeID) ir.Kind {
	if tt := g.p.Type(t); tt != nil && tt.Kind == ir.KindList {
		return g.p.KindOf(tt.Elem)
	}
	return ir.KindVoid
}

// params is the C++ parameter list of IR function fn: arrays as a
// pointer and a length.
func (g *kgen) params(fn *ir.Func) []string {
	var ps []string
	for i, pa := range fn.Params {
		r := reg(ir.Reg(i))
		if g.p.KindOf(pa.Type) == ir.KindList {
			ps = append(ps, fmt.Sprintf("const %s *%s", ctype(g.elemKind(pa.Type)), r), "int32_t "+r+"_len")
		} else {
			ps = append(ps, ctype(g.p.KindOf(pa.Type))+" "+r)
		}
	}
	return ps
}

// function writes IR function id: it stores the result through res and
// returns 0, or returns the code of the failing instruction.
func (g *kgen) function(id ir.FuncID) string {
	fn := g.p.Funcs[id]
	b := &body{g: g, fn: fn, c: analyse(fn), emitted: make([]int, len(fn.Blocks))}
	b.depth = 1
	b.seq(0, -1, -1)
	code := b.sb.String()
	for blk, n := range b.emitted {
		if n > 1 {
			g.errorf(fn.Loc, "internal error: %s: block b%d would be written %d times", fn.Name, blk, n)
		}
	}
	// The registers the written blocks use, declared first (blocks that
	// cannot be reached, such as the join after two returning arms, are
	// not written).
	used := map[string]bool{}
	for _, tok := range regToken.FindAllString(code, -1) {
		used[tok] = true
	}
	var sb strings.Builder
	ps := append(g.params(fn), ctype(g.p.KindOf(fn.Result))+" *res")
	fmt.Fprintf(&sb, "// %s computes %s (%s) for one element; it returns 0, or the code\n// of the instruction that failed.\n", funcName(id), fn.Name, g.where(fn.Loc))
	fmt.Fprintf(&sb, "static int32_t %s(%s) {\n", funcName(id), strings.Join(ps, ", "))
	sb.WriteString("  KNHK_HLS(INLINE)\n")
	for r, t := range fn.Regs {
		k := g.p.KindOf(t)
		if ct := ctype(k); ct != "" && r >= len(fn.Params) && used[reg(ir.Reg(r))] {
			fmt.Fprintf(&sb, "  %s %s = %s;\n", ct, reg(ir.Reg(r)), zero(k))
		}
	}
	for _, r := range unread(fn) {
		if used[reg(r)] {
			fmt.Fprintf(&sb, "  (void)%s;\n", reg(r))
		}
	}
	sb.WriteString(code)
	sb.WriteString("}\n")
	return sb.String()
}

// regToken matches the registers in written code.
var regToken = regexp.MustCompile(`\br[0-9]+\b`)

func zero(k ir.Kind) string {
	if k == ir.KindBool {
		return "false"
	}
	return "0"
}

// seq writes the blocks from blk until stop (exclusive); loop is the
// header of the innermost loop being written, whose back edges end the
// sequence.
func (b *body) seq(blk, stop, loop int) {
	for blk >= 0 && blk != stop {
		if blk == loop {
			return // a back edge: the for statement iterates
		}
		if lp, ok := b.c.loops[blk]; ok {
			blk = b.loop(lp, stop)
			continue
		}
		b.emitted[blk]++
		bl := b.fn.Blocks[blk]
		for i := range bl.Instrs {
			b.instr(&bl.Instrs[i])
		}
		t := &bl.Term
		switch t.Op {
		case ir.TermReturn:
			b.line("*res = %s;", reg(t.Value))
			b.line("return 0;")
			return
		case ir.TermJump:
			b.edge(&t.Succs[0])
			blk = int(t.Succs[0].Block)
		case ir.TermBranch:
			tr, fa := int(t.Succs[0].Block), int(t.Succs[1].Block)
			m := b.c.merge(tr, fa, stop)
			if m >= 0 && b.c.header[m] && m == loop {
				m = -1
			}
			// Arms that do not meet each run to stop (or return), where
			// the caller goes on.
			end := m
			if m < 0 {
				end = stop
			}
			b.line("if (%s) {", reg(t.Value))
			b.arm(&t.Succs[0], end, loop)
			b.line("} else {")
			b.arm(&t.Succs[1], end, loop)
			b.line("}")
			if m < 0 {
				return
			}
			blk = m
		default:
			b.g.errorf(t.Loc, "internal error: %s: unterminated block b%d", b.fn.Name, blk)
			return
		}
	}
}

func (b *body) arm(s *ir.Succ, stop, loop int) {
	b.depth++
	b.edge(s)
	b.seq(int(s.Block), stop, loop)
	b.depth--
}

// edge assigns the target's block parameters from the edge's arguments,
// through temporaries when one parameter is also an argument.
func (b *body) edge(s *ir.Succ) {
	ps := b.fn.Blocks[s.Block].Params
	if len(ps) == 0 {
		return
	}
	if len(ps) == 1 {
		if ps[0] != s.Args[0] {
			b.line("%s = %s;", reg(ps[0]), reg(s.Args[0]))
		}
		return
	}
	b.line("{")
	b.depth++
	for i, p := range ps {
		b.line("%s t%d = %s;", ctype(b.kind(p)), i, reg(s.Args[i]))
	}
	for i, p := range ps {
		b.line("%s = t%d;", reg(p), i)
	}
	b.depth--
	b.line("}")
}

// loop writes a counted loop as a for statement of constant trip count
// (unrolled when small) and returns its exit block. The header's
// instructions (the comparison) run before each iteration and once more
// at the exit, as in the IR.
func (b *body) loop(lp *loop, stop int) int {
	h := b.fn.Blocks[lp.Head]
	if !lp.counted {
		b.g.errorf(lp.Loc, "hls: a loop without constant bounds is not synthesizable")
		return -1
	}
	b.emitted[lp.Head]++
	b.line("for (int32_t l%d = 0; l%d < %d; l%d++) {", lp.Head, lp.Head, lp.Trip(), lp.Head)
	b.depth++
	if lp.Trip() <= maxUnroll {
		b.line("KNHK_HLS(UNROLL)")
	} else {
		b.line("KNHK_HLS(LOOP_TRIPCOUNT min=%d max=%d)", lp.Trip(), lp.Trip())
	}
	for i := range h.Instrs {
		b.instr(&h.Instrs[i])
	}
	b.line("(void)%s; // holds for every iteration of the counted loop", reg(h.Term.Value))
	body := h.Term.Succs[0]
	b.edge(&body)
	b.seq(int(body.Block), stop, lp.Head)
	b.depth--
	b.line("}")
	for i := range h.Instrs {
		b.instr(&h.Instrs[i])
	}
	exit := h.Term.Succs[1]
	b.edge(&exit)
	return int(exit.Block)
}

// maxUnroll is the largest trip count of an inner loop that is unrolled.
const maxUnroll = 256

// f32Lit is f exactly, as a C++ expression of type float.
func f32Lit(f float32) string {
	if f != f || math.IsInf(float64(f), 0) || f == 0 && math.Signbit(float64(f)) {
		return fmt.Sprintf("knhk_bits_f32(0x%08xu)", math.Float32bits(f))
	}
	// The shortest decimal that reads back as f: a C++ compiler rounds
	// it to the same float.
	lit := strconv.FormatFloat(float64(f), 'g', -1, 32)
	if !strings.ContainsAny(lit, ".e") {
		lit += ".0"
	}
	return lit + "f"
}

func (b *body) constant(k ir.Kind, c ir.Const) (string, bool) {
	switch k {
	case ir.KindBool:
		return strconv.FormatBool(c.Bool), c.Kind == ir.ConstBool
	case ir.KindI32:
		return fmt.Sprintf("(int32_t)(%dLL)", int32(c.Int)), c.Kind == ir.ConstInt
	case ir.KindU32:
		return fmt.Sprintf("%du", uint32(c.Int)), c.Kind == ir.ConstInt
	case ir.KindF32:
		switch c.Kind {
		case ir.ConstInt:
			return f32Lit(float32(float64(c.Int))), true
		case ir.ConstFloat:
			return f32Lit(float32(c.Float)), true
		}
	}
	return "", false
}

// fail writes: if cond, return the code of in's failure.
func (b *body) fail(cond string, in *ir.Instr, what string) {
	b.line("if (%s) return %d; // %s at %s", cond, b.g.site(in.Loc, what, b.fn.Name), what, b.g.where(in.Loc))
}

func (b *body) instr(in *ir.Instr) {
	d := reg(in.Dst)
	dk := b.kind(in.Dst)
	a := func(i int) string { return reg(in.Args[i]) }
	switch in.Op {
	case ir.OpConst:
		if v, ok := b.constant(dk, in.Const); ok {
			b.line("%s = %s;", d, v)
			return
		}
	case ir.OpIndex:
		if b.kind(in.Args[0]) == ir.KindList {
			b.fail(fmt.Sprintf("(int64_t)%s < 0 || (int64_t)%s >= (int64_t)%s_len", a(1), a(1), a(0)), in, "index out of range")
			b.line("%s = %s[%s];", d, a(0), a(1))
			return
		}
	case ir.OpBinary:
		if b.binary(in) {
			return
		}
	case ir.OpUnary:
		switch {
		case ir.UnOp(in.Sub) == ir.UnNot && dk == ir.KindBool:
			b.line("%s = !%s;", d, a(0))
			return
		case ir.UnOp(in.Sub) == ir.UnNeg && dk == ir.KindF32:
			b.line("%s = -%s;", d, a(0))
			return
		case ir.UnOp(in.Sub) == ir.UnNeg && dk == ir.KindI32:
			b.line("%s = knhk_neg_i32(%s);", d, a(0))
			return
		}
	case ir.OpConvert:
		if b.convert(in) {
			return
		}
	case ir.OpCallBuiltin:
		if b.builtin(in) {
			return
		}
	case ir.OpCallFunc:
		f := ir.FuncID(in.Callee)
		if f >= 0 && int(f) < len(b.g.p.Funcs) {
			b.g.need(f)
			var args []string
			for i, r := range in.Args {
				args = append(args, a(i))
				if b.kind(r) == ir.KindList {
					args = append(args, a(i)+"_len")
				}
			}
			b.line("{ int32_t e = %s(%s); if (e != 0) return e; }", funcName(f), strings.Join(append(args, "&"+d), ", "))
			return
		}
	}
	b.g.errorf(in.Loc, "hls: kernel %s: %s on %s has no hardware form", b.fn.Name, in.Op, dk)
}

func (b *body) binary(in *ir.Instr) bool {
	op := ir.BinOp(in.Sub)
	d, x, y := reg(in.Dst), reg(in.Args[0]), reg(in.Args[1])
	k := b.kind(in.Args[0])
	switch {
	case op.IsComparison():
		b.line("%s = %s %s %s;", d, x, op, y)
	case (op == ir.BinAnd || op == ir.BinOr) && k == ir.KindBool:
		b.line("%s = %s %s %s;", d, x, op, y)
	case k == ir.KindF32 && op >= ir.BinAdd && op <= ir.BinDiv:
		b.line("%s = %s %s %s;", d, x, op, y)
	case k == ir.KindI32 && op >= ir.BinAdd && op <= ir.BinMul:
		b.line("%s = knhk_%s_i32(%s, %s);", d, map[ir.BinOp]string{ir.BinAdd: "add", ir.BinSub: "sub", ir.BinMul: "mul"}[op], x, y)
	case k == ir.KindU32 && op >= ir.BinAdd && op <= ir.BinMul:
		b.line("%s = (uint32_t)(%s %s %s);", d, x, op, y)
	case (k == ir.KindI32 || k == ir.KindU32) && (op == ir.BinDiv || op == ir.BinRem):
		b.fail(y+" == 0", in, "integer division by zero")
		if k == ir.KindI32 {
			b.line("%s = knhk_%s_i32(%s, %s);", d, map[ir.BinOp]string{ir.BinDiv: "div", ir.BinRem: "rem"}[op], x, y)
		} else {
			b.line("%s = %s %s %s;", d, x, op, y)
		}
	default:
		return false
	}
	return true
}

func (b *body) convert(in *ir.Instr) bool {
	d, x := reg(in.Dst), reg(in.Args[0])
	from, to := b.kind(in.Args[0]), b.kind(in.Dst)
	intKind := func(k ir.Kind) bool { return k == ir.KindI32 || k == ir.KindU32 }
	bounds := map[ir.Kind][2]string{ir.KindI32: {"-2147483648.0", "2147483648.0"}, ir.KindU32: {"0.0", "4294967296.0"}}
	ibounds := map[ir.Kind][2]string{ir.KindI32: {"-2147483648LL", "2147483648LL"}, ir.KindU32: {"0LL", "4294967296LL"}}
	switch {
	case from == to:
		b.line("%s = %s;", d, x)
	case to == ir.KindF32 && intKind(from):
		b.line("%s = (float)(double)%s;", d, x)
	case from == ir.KindF32 && intKind(to):
		bd := bounds[to]
		b.line("{")
		b.depth++
		b.line("double t = trunc((double)%s);", x)
		b.fail(fmt.Sprintf("t != t || t < %s || t >= %s", bd[0], bd[1]), in, "conversion out of range")
		b.line("%s = (%s)(int64_t)t;", d, ctype(to))
		b.depth--
		b.line("}")
	case intKind(from) && intKind(to):
		bd := ibounds[to]
		b.fail(fmt.Sprintf("(int64_t)%s < %s || (int64_t)%s >= %s", x, bd[0], x, bd[1]), in, "conversion out of range")
		b.line("%s = (%s)%s;", d, ctype(to), x)
	default:
		return false
	}
	return true
}

func (b *body) builtin(in *ir.Instr) bool {
	if in.Callee >= 0 || len(in.Args) == 0 {
		return false
	}
	d, x := reg(in.Dst), reg(in.Args[0])
	k := b.kind(in.Dst)
	switch {
	case k == ir.KindF32 && (in.Name == "exp" || in.Name == "log" || in.Name == "sqrt" || in.Name == "abs"):
		b.line("%s = knhk_%s_f32(%s);", d, in.Name, x)
	case k == ir.KindI32 && in.Name == "abs":
		b.line("%s = knhk_abs_i32(%s);", d, x)
	case k == ir.KindU32 && in.Name == "abs":
		b.line("%s = %s;", d, x)
	case k == ir.KindF32 && (in.Name == "min" || in.Name == "max") && len(in.Args) == 2:
		b.line("%s = knhk_%s_f32(%s, %s);", d, in.Name, x, reg(in.Args[1]))
	case (k == ir.KindI32 || k == ir.KindU32) && (in.Name == "min" || in.Name == "max") && len(in.Args) == 2:
		op := "<="
		if in.Name == "max" {
			op = ">="
		}
		b.line("%s = %s %s %s ? %s : %s;", d, x, op, reg(in.Args[1]), x, reg(in.Args[1]))
	default:
		return false
	}
	return true
}

// unread returns the registers of fn, parameters included, that nothing
// reads, so that the C++ does not warn about them.
func unread(fn *ir.Func) []ir.Reg {
	read := make([]bool, len(fn.Regs))
	for _, blk := range fn.Blocks {
		for _, in := range blk.Instrs {
			for _, a := range in.Args {
				read[a] = true
			}
		}
		if blk.Term.Op != ir.TermJump && blk.Term.Value >= 0 {
			read[blk.Term.Value] = true
		}
		for _, s := range blk.Term.Succs {
			for _, a := range s.Args {
				read[a] = true
			}
		}
	}
	var out []ir.Reg
	for r, ok := range read {
		if !ok {
			out = append(out, ir.Reg(r))
		}
	}
	return out
}
