// This file implements the dominance check of the verifier: in SSA form
// every use of a register must be dominated by its definition.

package ir

// dominators returns the immediate dominator of every block of f reachable
// from the entry (-1 for the entry and for unreachable blocks), by the
// iterative algorithm of Cooper, Harvey and Kennedy. f's successor indices
// must be in range.
func dominators(f *Func) []int {
	n := len(f.Blocks)
	// Reverse postorder of the reachable blocks.
	order := make([]int, 0, n)
	state := make([]uint8, n) // 0 new, 1 on stack, 2 done
	type frame struct{ b, next int }
	stack := []frame{{0, 0}}
	state[0] = 1
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		succs := f.Blocks[top.b].Term.Succs
		if top.next < len(succs) {
			s := int(succs[top.next].Block)
			top.next++
			if state[s] == 0 {
				state[s] = 1
				stack = append(stack, frame{s, 0})
			}
			continue
		}
		state[top.b] = 2
		order = append(order, top.b)
		stack = stack[:len(stack)-1]
	}
	rpo := make([]int, n)
	for i := range rpo {
		rpo[i] = -1
	}
	for i, b := range order {
		rpo[b] = len(order) - 1 - i
	}
	preds := make([][]int, n)
	for b, blk := range f.Blocks {
		if rpo[b] < 0 {
			continue
		}
		for _, s := range blk.Term.Succs {
			preds[s.Block] = append(preds[s.Block], b)
		}
	}
	idom := make([]int, n)
	for i := range idom {
		idom[i] = -1
	}
	idom[0] = 0
	intersect := func(a, b int) int {
		for a != b {
			for rpo[a] > rpo[b] {
				a = idom[a]
			}
			for rpo[b] > rpo[a] {
				b = idom[b]
			}
		}
		return a
	}
	for changed := true; changed; {
		changed = false
		for i := len(order) - 1; i >= 0; i-- {
			b := order[i]
			if b == 0 {
				continue
			}
			nd := -1
			for _, p := range preds[b] {
				if idom[p] < 0 {
					continue
				}
				if nd < 0 {
					nd = p
				} else {
					nd = intersect(p, nd)
				}
			}
			if nd >= 0 && idom[b] != nd {
				idom[b] = nd
				changed = true
			}
		}
	}
	idom[0] = -1
	return idom
}

// dominance checks that every use of a register in a reachable block comes
// after its definition in the same block or in a dominating block. It
// runs only on functions whose registers and successors are in range.
func (v *verifier) dominance(f *Func) {
	idom := dominators(f)
	const paramIndex = -1
	defBlock := make([]int, len(f.Regs))
	defIndex := make([]int, len(f.Regs))
	for i := range defBlock {
		defBlock[i] = -1
	}
	for i := range f.Params {
		defBlock[i], defIndex[i] = 0, paramIndex
	}
	for b, blk := range f.Blocks {
		for _, r := range blk.Params {
			defBlock[r], defIndex[r] = b, paramIndex
		}
		for k := range blk.Instrs {
			defBlock[blk.Instrs[k].Dst], defIndex[blk.Instrs[k].Dst] = b, k
		}
	}
	dominates := func(a, b int) bool {
		for ; b >= 0; b = idom[b] {
			if a == b {
				return true
			}
		}
		return false
	}
	check := func(b, k int, r Reg) {
		if r < 0 || int(r) >= len(f.Regs) || defBlock[r] < 0 {
			return // reported elsewhere
		}
		d := defBlock[r]
		if d == b && defIndex[r] < k || d != b && dominates(d, b) {
			return
		}
		v.errorf("b%d: use of r%d not dominated by its definition in b%d", b, r, d)
	}
	for b, blk := range f.Blocks {
		if b != 0 && idom[b] < 0 {
			continue // unreachable
		}
		for k := range blk.Instrs {
			for _, r := range blk.Instrs[k].Args {
				check(b, k, r)
			}
		}
		end := len(blk.Instrs)
		if blk.Term.Op == TermBranch || blk.Term.Op == TermReturn {
			check(b, end, blk.Term.Value)
		}
		for _, s := range blk.Term.Succs {
			for _, r := range s.Args {
				check(b, end, r)
			}
		}
	}
}
