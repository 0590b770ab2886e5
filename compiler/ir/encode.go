// This file implements the stable binary encoding of programs and its
// content hash.

package ir

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
)

// Magic starts every encoded program.
const Magic = "KNHKIR"

// Version is the encoding version written after Magic. It changes whenever
// the layout does; a decoder rejects versions it does not know.
const Version = 4

// MaxEncodedSize bounds what Decode accepts.
const MaxEncodedSize = 256 << 20

// Encode verifies p and returns its binary encoding: Magic, Version, then
// every field in declaration order as varints (signed ones zigzag),
// length-prefixed strings and lists, and floats as their IEEE bits. The
// IR holds no maps, so the encoding is a function of the program alone:
// equal programs encode to equal bytes, and Decode then Encode gives the
// input back byte for byte.
func (p *Program) Encode() ([]byte, error) {
	if err := p.Verify(); err != nil {
		return nil, err
	}
	e := &encoder{buf: make([]byte, 0, 1024)}
	e.buf = append(e.buf, Magic...)
	e.u(Version)
	e.program(p)
	return e.buf, nil
}

// Hash returns the hex SHA-256 of p's encoding: the descriptor hash that
// names this version of the program.
func (p *Program) Hash() (string, error) {
	b, err := p.Encode()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

type encoder struct{ buf []byte }

func (e *encoder) u(x uint64) { e.buf = binary.AppendUvarint(e.buf, x) }
func (e *encoder) i(x int64)  { e.buf = binary.AppendVarint(e.buf, x) }
func (e *encoder) str(s string) {
	e.u(uint64(len(s)))
	e.buf = append(e.buf, s...)
}
func (e *encoder) bool(b bool) {
	if b {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}
func (e *encoder) f64(f float64) {
	e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(f))
}

func (e *encoder) loc(l Loc) {
	e.i(int64(l.File))
	e.i(int64(l.Span.Start))
	e.i(int64(l.Span.End))
}

func (e *encoder) params(ps []Param) {
	e.u(uint64(len(ps)))
	for _, p := range ps {
		e.str(p.Name)
		e.i(int64(p.Type))
	}
}

func (e *encoder) ints32(xs []int32) {
	e.u(uint64(len(xs)))
	for _, x := range xs {
		e.i(int64(x))
	}
}

func (e *encoder) funcs(xs []FuncID) {
	e.u(uint64(len(xs)))
	for _, x := range xs {
		e.i(int64(x))
	}
}

func (e *encoder) regs(xs []Reg) {
	e.u(uint64(len(xs)))
	for _, x := range xs {
		e.i(int64(x))
	}
}

func (e *encoder) program(p *Program) {
	e.str(p.Package)
	e.u(uint64(len(p.Files)))
	for _, f := range p.Files {
		e.str(f.Name)
		e.i(f.Size)
	}
	e.u(uint64(len(p.Types)))
	for i := range p.Types {
		t := &p.Types[i]
		e.u(uint64(t.Kind))
		e.str(t.Name)
		e.i(int64(t.Elem))
		e.i(int64(t.Key))
		e.u(uint64(len(t.Fields)))
		for _, f := range t.Fields {
			e.str(f.Name)
			e.i(int64(f.Type))
		}
		e.u(uint64(len(t.Members)))
		for _, m := range t.Members {
			e.str(m)
		}
	}
	e.u(uint64(len(p.Funcs)))
	for _, f := range p.Funcs {
		e.fun(f)
	}
	e.u(uint64(len(p.Kernels)))
	for _, k := range p.Kernels {
		e.str(k.Name)
		e.params(k.Params)
		e.i(int64(k.Result))
		e.i(int64(k.Body))
		e.loc(k.Loc)
	}
	e.u(uint64(len(p.Tasks)))
	for _, t := range p.Tasks {
		e.str(t.Name)
		e.params(t.Params)
		e.i(int64(t.Result))
		e.u(uint64(t.Binding.Kind))
		e.str(t.Binding.Method)
		e.str(t.Binding.Target)
		e.u(uint64(len(t.Binding.Args)))
		for _, a := range t.Binding.Args {
			e.str(a)
		}
		e.i(int64(t.Retry))
		e.i(int64(t.Backoff))
		e.i(int64(t.Timeout))
		e.optCall(t.Undo)
		e.loc(t.Loc)
	}
	e.u(uint64(len(p.Nets)))
	for _, n := range p.Nets {
		e.net(n)
	}
}

func (e *encoder) fun(f *Func) {
	e.str(f.Name)
	e.params(f.Params)
	e.i(int64(f.Result))
	e.u(uint64(len(f.Regs)))
	for _, t := range f.Regs {
		e.i(int64(t))
	}
	e.u(uint64(len(f.Blocks)))
	for _, b := range f.Blocks {
		e.regs(b.Params)
		e.u(uint64(len(b.Instrs)))
		for k := range b.Instrs {
			in := &b.Instrs[k]
			e.u(uint64(in.Op))
			e.u(uint64(in.Sub))
			e.i(int64(in.Dst))
			e.regs(in.Args)
			e.i(int64(in.Index))
			e.i(int64(in.Callee))
			e.str(in.Name)
			e.constant(in.Const)
			e.loc(in.Loc)
		}
		t := &b.Term
		e.u(uint64(t.Op))
		e.i(int64(t.Value))
		e.u(uint64(len(t.Succs)))
		for _, s := range t.Succs {
			e.i(int64(s.Block))
			e.regs(s.Args)
		}
		e.loc(t.Loc)
	}
	e.i(int64(f.Scope))
	e.loc(f.Loc)
}

func (e *encoder) constant(c Const) {
	e.u(uint64(c.Kind))
	switch c.Kind {
	case ConstBool:
		e.bool(c.Bool)
	case ConstInt:
		e.i(c.Int)
	case ConstFloat:
		e.f64(c.Float)
	case ConstString:
		e.str(c.Str)
	}
}

func (e *encoder) optCall(c *Call) {
	if c == nil {
		e.bool(false)
		return
	}
	e.bool(true)
	e.call(c)
}

func (e *encoder) call(c *Call) {
	e.u(uint64(c.Kind))
	e.i(int64(c.Target))
	e.funcs(c.Args)
	e.i(int64(c.Retry))
	e.i(int64(c.Backoff))
	e.i(int64(c.Timeout))
	e.optCall(c.Undo)
	e.loc(c.Loc)
}

func (e *encoder) net(n *Net) {
	e.str(n.Name)
	e.params(n.Params)
	e.i(int64(n.Result))
	e.u(uint64(len(n.Vars)))
	for _, v := range n.Vars {
		e.str(v.Name)
		e.i(int64(v.Type))
		e.loc(v.Loc)
	}
	e.u(uint64(len(n.Places)))
	for _, p := range n.Places {
		e.str(p.Name)
		e.i(int64(p.Init))
		e.loc(p.Loc)
	}
	e.u(uint64(len(n.Transitions)))
	for _, t := range n.Transitions {
		e.str(t.Name)
		e.u(uint64(t.Kind))
		e.u(uint64(t.Join))
		e.i(int64(t.JoinN))
		e.u(uint64(t.Split))
		e.u(uint64(t.Cancel))
		e.i(int64(t.Region))
		e.i(int64(t.Task))
		e.optCall(t.Call)
		e.i(int64(t.Result))
		e.i(int64(t.Value))
		e.i(int64(t.Limit))
		e.i(int64(t.Quorum))
		e.bool(t.Keep)
		e.funcs(t.Features)
		e.u(uint64(len(t.Candidates)))
		for _, c := range t.Candidates {
			e.call(c)
		}
		e.str(t.Label)
		e.u(uint64(t.Marker))
		e.ints32(t.Bind)
		e.loc(t.Loc)
		e.send(t.Send)
	}
	e.u(uint64(len(n.Arcs)))
	for _, a := range n.Arcs {
		e.i(int64(a.Place))
		e.i(int64(a.Trans))
		e.bool(a.Out)
		e.i(int64(a.Weight))
		e.i(int64(a.Guard))
		e.loc(a.Loc)
	}
	e.u(uint64(len(n.Regions)))
	for _, r := range n.Regions {
		e.str(r.Name)
		e.ints32(r.Places)
		e.ints32(r.Transitions)
		e.loc(r.Loc)
	}
	e.u(uint64(len(n.Signals)))
	for _, s := range n.Signals {
		e.str(s.Name)
		e.params(s.Params)
		e.bool(s.Transient)
		e.loc(s.Loc)
	}
	e.u(uint64(len(n.Queries)))
	for _, q := range n.Queries {
		e.str(q.Name)
		e.i(int64(q.Value))
		e.loc(q.Loc)
	}
	e.u(uint64(len(n.Hooks)))
	for _, h := range n.Hooks {
		e.str(h.Name)
		e.u(uint64(h.Event))
		e.i(int64(h.Task))
		e.str(h.Label)
		e.i(int64(h.Cond))
		e.call(h.Action)
		e.ints32(h.Bind)
		e.loc(h.Loc)
	}
	e.i(int64(n.Start))
	e.i(int64(n.End))
	e.loc(n.Loc)
}
