// This file implements predication: an acyclic function without calls
// emitted as one straight-line block of selects.

package spirv

import "github.com/knhk/knhk/compiler/ir"

// predicable returns the blocks in an order where every block comes after
// its predecessors, and ok when the function can be predicated: no
// cycles (loops) and no calls, whose failures the predicate could not
// mask.
func (f *fgen) predicable() ([]int, bool) {
	n := len(f.fn.Blocks)
	for _, blk := range f.fn.Blocks {
		for _, in := range blk.Instrs {
			if in.Op == ir.OpCallFunc {
				return nil, false
			}
		}
	}
	const (
		unseen = iota
		active
		done
	)
	state := make([]int, n)
	var post []int
	acyclic := true
	var visit func(b int)
	visit = func(b int) {
		state[b] = active
		for _, s := range f.fn.Blocks[b].Term.Succs {
			switch state[s.Block] {
			case unseen:
				visit(int(s.Block))
			case active:
				acyclic = false
			}
		}
		state[b] = done
		post = append(post, b)
	}
	visit(0)
	if !acyclic {
		return nil, false
	}
	order := make([]int, 0, len(post))
	for i := len(post) - 1; i >= 0; i-- {
		order = append(order, post[i])
	}
	return order, true
}

// predicated emits an acyclic function as straight-line code: every
// reachable block runs on every element (kernel instructions have no
// side effects), under a predicate that says whether the element's path
// reaches it. A failure counts only where its block's predicate holds; a
// block parameter takes the argument of the edge that was taken, and the
// result the value of the return that was reached. Drivers then see one
// block with selects instead of branches that diverge.
func (f *fgen) predicated(order []int, res uint32) {
	b := f.m.b
	bl := b.tBool()
	type edge struct {
		cond uint32
		args []uint32
	}
	in := map[int][]edge{}
	result := uint32(0)
	// One SPIR-V block: every value is available after its definition.
	f.local = map[ir.Reg]uint32{}
	for _, bi := range order {
		blk := f.fn.Blocks[bi]
		f.pred = 0
		if bi != 0 {
			es := in[bi]
			if len(es) == 0 {
				continue // unreachable
			}
			f.pred = es[0].cond
			for _, e := range es[1:] {
				f.pred = f.op(OpLogicalOr, bl, f.pred, e.cond)
			}
			for pi, p := range blk.Params {
				t, _ := f.m.typeOf(f.kind(p))
				v := es[0].args[pi]
				for _, e := range es[1:] {
					v = f.op(OpSelect, t, e.cond, e.args[pi], v)
				}
				f.local[p] = v
			}
		}
		for i := range blk.Instrs {
			f.instr(&blk.Instrs[i])
		}
		t := &blk.Term
		taken := func(cond uint32) uint32 {
			switch {
			case f.pred == 0:
				return cond
			case cond == 0:
				return f.pred
			}
			return f.op(OpLogicalAnd, bl, f.pred, cond)
		}
		edgeTo := func(s *ir.Succ, cond uint32) {
			args := make([]uint32, len(s.Args))
			for i, a := range s.Args {
				args[i] = f.value(a)
			}
			if cond == 0 {
				cond = b.cBool(true)
			}
			in[int(s.Block)] = append(in[int(s.Block)], edge{cond, args})
		}
		switch t.Op {
		case ir.TermReturn:
			v := f.value(t.Value)
			if result == 0 {
				result = v
			} else {
				result = f.op(OpSelect, res, taken(b.cBool(true)), v, result)
			}
		case ir.TermJump:
			edgeTo(&t.Succs[0], taken(0))
		case ir.TermBranch:
			c := f.value(t.Value)
			edgeTo(&t.Succs[0], taken(c))
			edgeTo(&t.Succs[1], taken(f.op(OpLogicalNot, bl, c)))
		default:
			f.errorf(t.Loc, "internal error: unterminated block in %s", f.fn.Name)
			return
		}
	}
	f.pred = 0
	if result == 0 {
		f.errorf(f.fn.Loc, "internal error: %s never returns", f.fn.Name)
		return
	}
	f.stmt(OpReturnValue, result)
}
