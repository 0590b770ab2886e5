// This file implements decoding of the binary encoding.

package ir

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/knhk/knhk/lang/source"
)

// ErrMalformed is wrapped by every error Decode returns for bytes that are
// not an encoding of a program.
var ErrMalformed = errors.New("malformed ir")

// Decode parses an encoding made by [Program.Encode] and verifies the
// result. It rejects malformed, truncated, oversized, non-canonical
// (overlong varints, trailing bytes) and unverifiable input with an error
// wrapping [ErrMalformed]; it never panics and allocates in proportion to
// the input, since every length is checked against the bytes that remain.
func Decode(b []byte) (*Program, error) {
	if len(b) > MaxEncodedSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds the limit of %d", ErrMalformed, len(b), MaxEncodedSize)
	}
	if len(b) < len(Magic) || string(b[:len(Magic)]) != Magic {
		return nil, fmt.Errorf("%w: missing %s header", ErrMalformed, Magic)
	}
	d := &decoder{buf: b, off: len(Magic)}
	if v := d.u("version"); d.err == nil && v != Version {
		return nil, fmt.Errorf("%w: unsupported version %d", ErrMalformed, v)
	}
	p := d.program()
	if d.err == nil && d.off != len(d.buf) {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return nil, d.err
	}
	if err := p.Verify(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return p, nil
}

type decoder struct {
	buf []byte
	off int
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at byte %d", ErrMalformed, what, d.off)
	}
}

// u reads a canonical unsigned varint: at most ten bytes, no overflow and
// no redundant trailing zero groups, so that every value has one encoding.
func (d *decoder) u(what string) uint64 {
	if d.err != nil {
		return 0
	}
	var x uint64
	for i := 0; ; i++ {
		if d.off >= len(d.buf) {
			d.fail("truncated " + what)
			return 0
		}
		c := d.buf[d.off]
		d.off++
		if i == 9 && c > 1 {
			d.fail("varint overflow in " + what)
			return 0
		}
		x |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if c == 0 && i > 0 {
				d.fail("overlong varint in " + what)
				return 0
			}
			return x
		}
	}
}

func (d *decoder) i(what string) int64 {
	ux := d.u(what)
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

func (d *decoder) i32(what string) int32 {
	x := d.i(what)
	if x < math.MinInt32 || x > math.MaxInt32 {
		d.fail(what + " out of range")
		return 0
	}
	return int32(x)
}

func (d *decoder) u8(what string) uint8 {
	x := d.u(what)
	if x > math.MaxUint8 {
		d.fail(what + " out of range")
		return 0
	}
	return uint8(x)
}

// count reads a list length, which cannot exceed the bytes left since
// every element takes at least one byte.
func (d *decoder) count(what string) int {
	n := d.u(what + " count")
	if d.err == nil && n > uint64(len(d.buf)-d.off) {
		d.fail(what + " count exceeds the input")
		return 0
	}
	return int(n)
}

func (d *decoder) str(what string) string {
	n := d.count(what)
	if d.err != nil {
		return ""
	}
	s := string(d.buf[d.off : d.off+n])
	d.off += n
	return s
}

func (d *decoder) bool(what string) bool {
	if d.err != nil {
		return false
	}
	if d.off >= len(d.buf) {
		d.fail("truncated " + what)
		return false
	}
	c := d.buf[d.off]
	d.off++
	if c > 1 {
		d.fail("bad bool in " + what)
	}
	return c == 1
}

func (d *decoder) f64(what string) float64 {
	if d.err != nil {
		return 0
	}
	if len(d.buf)-d.off < 8 {
		d.fail("truncated " + what)
		return 0
	}
	x := binary.LittleEndian.Uint64(d.buf[d.off:])
	d.off += 8
	return math.Float64frombits(x)
}

func (d *decoder) loc() Loc {
	return Loc{File: d.i32("file"), Span: source.Span{Start: source.Pos(d.i32("span start")), End: source.Pos(d.i32("span end"))}}
}

func (d *decoder) params(what string) []Param {
	n := d.count(what)
	var ps []Param
	for k := 0; k < n && d.err == nil; k++ {
		ps = append(ps, Param{Name: d.str(what + " name"), Type: TypeID(d.i32(what + " type"))})
	}
	return ps
}

func (d *decoder) ints32(what string) []int32 {
	n := d.count(what)
	var xs []int32
	for k := 0; k < n && d.err == nil; k++ {
		xs = append(xs, d.i32(what))
	}
	return xs
}

func (d *decoder) funcs(what string) []FuncID {
	n := d.count(what)
	var xs []FuncID
	for k := 0; k < n && d.err == nil; k++ {
		xs = append(xs, FuncID(d.i32(what)))
	}
	return xs
}

func (d *decoder) regs(what string) []Reg {
	n := d.count(what)
	var xs []Reg
	for k := 0; k < n && d.err == nil; k++ {
		xs = append(xs, Reg(d.i32(what)))
	}
	return xs
}

func (d *decoder) program() *Program {
	p := &Program{Package: d.str("package")}
	n := d.count("files")
	for k := 0; k < n && d.err == nil; k++ {
		p.Files = append(p.Files, File{Name: d.str("file name"), Size: d.i("file size")})
	}
	n = d.count("types")
	for k := 0; k < n && d.err == nil; k++ {
		t := Type{Kind: Kind(d.u8("type kind")), Name: d.str("type name"), Elem: TypeID(d.i32("elem")), Key: TypeID(d.i32("key"))}
		nf := d.count("fields")
		for j := 0; j < nf && d.err == nil; j++ {
			t.Fields = append(t.Fields, Field{Name: d.str("field name"), Type: TypeID(d.i32("field type"))})
		}
		nm := d.count("members")
		for j := 0; j < nm && d.err == nil; j++ {
			t.Members = append(t.Members, d.str("member"))
		}
		p.Types = append(p.Types, t)
	}
	n = d.count("funcs")
	for k := 0; k < n && d.err == nil; k++ {
		p.Funcs = append(p.Funcs, d.fun())
	}
	n = d.count("kernels")
	for k := 0; k < n && d.err == nil; k++ {
		p.Kernels = append(p.Kernels, &Kernel{Name: d.str("kernel name"), Params: d.params("kernel params"),
			Result: TypeID(d.i32("kernel result")), Body: FuncID(d.i32("kernel body")), Loc: d.loc()})
	}
	n = d.count("tasks")
	for k := 0; k < n && d.err == nil; k++ {
		t := &Task{Name: d.str("task name"), Params: d.params("task params"), Result: TypeID(d.i32("task result"))}
		t.Binding.Kind = BindKind(d.u8("binding kind"))
		t.Binding.Method = d.str("binding method")
		t.Binding.Target = d.str("binding target")
		na := d.count("binding args")
		for j := 0; j < na && d.err == nil; j++ {
			t.Binding.Args = append(t.Binding.Args, d.str("binding arg"))
		}
		t.Retry = d.i32("retry")
		t.Backoff = FuncID(d.i32("backoff"))
		t.Timeout = FuncID(d.i32("timeout"))
		t.Undo = d.optCall(0)
		t.Loc = d.loc()
		p.Tasks = append(p.Tasks, t)
	}
	n = d.count("nets")
	for k := 0; k < n && d.err == nil; k++ {
		p.Nets = append(p.Nets, d.net())
	}
	return p
}

func (d *decoder) fun() *Func {
	f := &Func{Name: d.str("func name"), Params: d.params("func params"), Result: TypeID(d.i32("func result"))}
	n := d.count("regs")
	for k := 0; k < n && d.err == nil; k++ {
		f.Regs = append(f.Regs, TypeID(d.i32("reg type")))
	}
	n = d.count("blocks")
	for k := 0; k < n && d.err == nil; k++ {
		b := &Block{Params: d.regs("block params")}
		ni := d.count("instrs")
		for j := 0; j < ni && d.err == nil; j++ {
			in := Instr{Op: Op(d.u8("op")), Sub: d.u8("sub"), Dst: Reg(d.i32("dst")), Args: d.regs("args"),
				Index: d.i32("index"), Callee: d.i32("callee"), Name: d.str("name")}
			in.Const = d.constant()
			in.Loc = d.loc()
			b.Instrs = append(b.Instrs, in)
		}
		b.Term.Op = TermOp(d.u8("term op"))
		b.Term.Value = Reg(d.i32("term value"))
		ns := d.count("succs")
		for j := 0; j < ns && d.err == nil; j++ {
			b.Term.Succs = append(b.Term.Succs, Succ{Block: d.i32("succ block"), Args: d.regs("succ args")})
		}
		b.Term.Loc = d.loc()
		f.Blocks = append(f.Blocks, b)
	}
	f.Scope = d.i32("scope")
	f.Loc = d.loc()
	return f
}

func (d *decoder) constant() Const {
	c := Const{Kind: ConstKind(d.u8("const kind"))}
	switch c.Kind {
	case ConstNone:
	case ConstBool:
		c.Bool = d.bool("const")
	case ConstInt:
		c.Int = d.i("const")
	case ConstFloat:
		c.Float = d.f64("const")
	case ConstString:
		c.Str = d.str("const")
	default:
		d.fail("bad const kind")
	}
	return c
}

// maxCallDepth bounds nested undo calls.
const maxCallDepth = 8

func (d *decoder) optCall(depth int) *Call {
	if !d.bool("call present") || d.err != nil {
		return nil
	}
	return d.call(depth)
}

func (d *decoder) call(depth int) *Call {
	if depth > maxCallDepth {
		d.fail("undo nested too deep")
		return nil
	}
	c := &Call{Kind: CallKind(d.u8("call kind")), Target: d.i32("call target"), Args: d.funcs("call args"),
		Retry: d.i32("call retry"), Backoff: FuncID(d.i32("call backoff")), Timeout: FuncID(d.i32("call timeout"))}
	c.Undo = d.optCall(depth + 1)
	c.Loc = d.loc()
	return c
}

func (d *decoder) net() *Net {
	n := &Net{Name: d.str("net name"), Params: d.params("net params"), Result: TypeID(d.i32("net result"))}
	k := d.count("vars")
	for j := 0; j < k && d.err == nil; j++ {
		n.Vars = append(n.Vars, Var{Name: d.str("var name"), Type: TypeID(d.i32("var type")), Loc: d.loc()})
	}
	k = d.count("places")
	for j := 0; j < k && d.err == nil; j++ {
		n.Places = append(n.Places, &Place{Name: d.str("place name"), Init: d.i32("place init"), Loc: d.loc()})
	}
	k = d.count("transitions")
	for j := 0; j < k && d.err == nil; j++ {
		t := &Transition{Name: d.str("transition name"), Kind: TransKind(d.u8("transition kind")),
			Join: JoinKind(d.u8("join")), JoinN: d.i32("join n"), Split: SplitKind(d.u8("split")),
			Cancel: CancelKind(d.u8("cancel")), Region: d.i32("region"), Task: d.i32("task")}
		t.Call = d.optCall(0)
		t.Result = d.i32("result")
		t.Value = FuncID(d.i32("value"))
		t.Limit = FuncID(d.i32("limit"))
		t.Quorum = FuncID(d.i32("quorum"))
		t.Keep = d.bool("keep")
		t.Features = d.funcs("features")
		nc := d.count("candidates")
		for c := 0; c < nc && d.err == nil; c++ {
			t.Candidates = append(t.Candidates, d.call(0))
		}
		t.Label = d.str("label")
		t.Marker = MarkerKind(d.u8("marker"))
		t.Bind = d.ints32("bind")
		t.Loc = d.loc()
		t.Send = d.send()
		n.Transitions = append(n.Transitions, t)
	}
	k = d.count("arcs")
	for j := 0; j < k && d.err == nil; j++ {
		n.Arcs = append(n.Arcs, &Arc{Place: d.i32("arc place"), Trans: d.i32("arc transition"), Out: d.bool("arc out"),
			Weight: d.i32("arc weight"), Guard: FuncID(d.i32("arc guard")), Loc: d.loc()})
	}
	k = d.count("regions")
	for j := 0; j < k && d.err == nil; j++ {
		n.Regions = append(n.Regions, &Region{Name: d.str("region name"), Places: d.ints32("region places"),
			Transitions: d.ints32("region transitions"), Loc: d.loc()})
	}
	k = d.count("signals")
	for j := 0; j < k && d.err == nil; j++ {
		n.Signals = append(n.Signals, &Signal{Name: d.str("signal name"), Params: d.params("signal params"),
			Transient: d.bool("signal transient"), Loc: d.loc()})
	}
	k = d.count("queries")
	for j := 0; j < k && d.err == nil; j++ {
		n.Queries = append(n.Queries, &Query{Name: d.str("query name"), Value: FuncID(d.i32("query value")), Loc: d.loc()})
	}
	k = d.count("hooks")
	for j := 0; j < k && d.err == nil; j++ {
		h := &Hook{Name: d.str("hook name"), Event: HookEvent(d.u8("hook event")), Task: d.i32("hook task"),
			Label: d.str("hook label"), Cond: FuncID(d.i32("hook cond"))}
		h.Action = d.call(0)
		h.Bind = d.ints32("hook bind")
		h.Loc = d.loc()
		n.Hooks = append(n.Hooks, h)
	}
	n.Start = d.i32("start")
	n.End = d.i32("end")
	n.Loc = d.loc()
	return n
}
