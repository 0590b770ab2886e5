// This file implements the control-flow analysis of kernel bodies: the
// reverse postorder, the loop headers (targets of back edges), the trip
// count of each loop, which must be constant for the loop to be
// synthesized, and the merge block of each branch.

package hls

import "github.com/knhk/knhk/compiler/ir"

// cfg is the analysed control flow of one IR function.
type cfg struct {
	fn     *ir.Func
	def    []*ir.Instr // the instruction defining each register, nil for parameters
	rpo    []int       // blocks in reverse postorder
	rank   []int       // rank[b]: b's position in rpo, -1 if unreachable
	header []bool      // the target of a back edge
	latch  [][]int     // latch[h]: the blocks with a back edge to h
	loops  map[int]*loop
}

// loop is a counted loop: its header's first parameter counts from Lo
// while it is below Hi, one step per iteration.
type loop struct {
	Head       int
	Lo, Hi     int64
	Body, Exit int
	Loc        ir.Loc
	counted    bool
}

// Trip is the loop's iteration count.
func (l *loop) Trip() int64 { return max(0, l.Hi-l.Lo) }

func analyse(fn *ir.Func) *cfg {
	c := &cfg{fn: fn, def: make([]*ir.Instr, len(fn.Regs)), rank: make([]int, len(fn.Blocks)),
		header: make([]bool, len(fn.Blocks)), latch: make([][]int, len(fn.Blocks)), loops: map[int]*loop{}}
	for _, b := range fn.Blocks {
		for i := range b.Instrs {
			if d := b.Instrs[i].Dst; d >= 0 && int(d) < len(c.def) {
				c.def[d] = &b.Instrs[i]
			}
		}
	}
	for i := range c.rank {
		c.rank[i] = -1
	}
	// An iterative depth-first search: an edge to a block still on the
	// stack is a back edge (the lowering's CFGs are reducible).
	state := make([]uint8, len(fn.Blocks)) // 0 new, 1 on stack, 2 done
	var post []int
	type frame struct{ b, next int }
	stack := []frame{{0, 0}}
	state[0] = 1
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		succs := fn.Blocks[top.b].Term.Succs
		if top.next < len(succs) {
			s := int(succs[top.next].Block)
			top.next++
			if s < 0 || s >= len(fn.Blocks) {
				continue
			}
			switch state[s] {
			case 0:
				state[s] = 1
				stack = append(stack, frame{s, 0})
			case 1:
				c.header[s] = true
				c.latch[s] = append(c.latch[s], top.b)
			}
			continue
		}
		state[top.b] = 2
		post = append(post, top.b)
		stack = stack[:len(stack)-1]
	}
	for i := len(post) - 1; i >= 0; i-- {
		c.rank[post[i]] = len(c.rpo)
		c.rpo = append(c.rpo, post[i])
	}
	for h, ok := range c.header {
		if ok {
			c.loops[h] = c.counted(h)
		}
	}
	return c
}

// constOf returns the integer constant register r holds, if it is one:
// a constant, or negation, arithmetic and conversions of constants (the
// lowering writes -2 as the negation of 2).
func (c *cfg) constOf(r ir.Reg) (int64, bool) {
	return c.constDepth(r, 0)
}

func (c *cfg) constDepth(r ir.Reg, depth int) (int64, bool) {
	if depth > 16 || r < 0 || int(r) >= len(c.def) || c.def[r] == nil {
		return 0, false
	}
	in := c.def[r]
	switch in.Op {
	case ir.OpConst:
		return in.Const.Int, in.Const.Kind == ir.ConstInt
	case ir.OpUnary:
		x, ok := c.constDepth(in.Args[0], depth+1)
		return -x, ok && ir.UnOp(in.Sub) == ir.UnNeg
	case ir.OpConvert:
		return c.constDepth(in.Args[0], depth+1)
	case ir.OpBinary:
		x, okx := c.constDepth(in.Args[0], depth+1)
		y, oky := c.constDepth(in.Args[1], depth+1)
		if !okx || !oky {
			return 0, false
		}
		switch ir.BinOp(in.Sub) {
		case ir.BinAdd:
			return x + y, true
		case ir.BinSub:
			return x - y, true
		case ir.BinMul:
			return x * y, true
		}
	}
	return 0, false
}

// counted recognises the loops the kernel lowering writes for
// "for k in lo..hi" with constant bounds.
func (c *cfg) counted(h int) *loop {
	blk := c.fn.Blocks[h]
	l := &loop{Head: h, Loc: blk.Term.Loc, Body: -1, Exit: -1}
	if blk.Term.Op != ir.TermBranch || len(blk.Params) == 0 || len(blk.Term.Succs) != 2 {
		return l
	}
	l.Body, l.Exit = int(blk.Term.Succs[0].Block), int(blk.Term.Succs[1].Block)
	cond := c.def[blk.Term.Value]
	k := blk.Params[0]
	if cond == nil || cond.Op != ir.OpBinary || ir.BinOp(cond.Sub) != ir.BinLt || cond.Args[0] != k {
		return l
	}
	hi, ok := c.constOf(cond.Args[1])
	if !ok {
		return l
	}
	isLatch := map[int]bool{}
	for _, b := range c.latch[h] {
		isLatch[b] = true
	}
	entries := 0
	var lo int64
	for b, from := range c.fn.Blocks {
		for _, s := range from.Term.Succs {
			if int(s.Block) != h || len(s.Args) == 0 {
				continue
			}
			if isLatch[b] {
				step := c.def[s.Args[0]]
				if step == nil || step.Op != ir.OpBinary || ir.BinOp(step.Sub) != ir.BinAdd || step.Args[0] != k {
					return l
				}
				if one, ok := c.constOf(step.Args[1]); !ok || one != 1 {
					return l
				}
				continue
			}
			entries++
			if lo, ok = c.constOf(s.Args[0]); !ok {
				return l
			}
		}
	}
	if entries != 1 {
		return l
	}
	l.Lo, l.Hi, l.counted = lo, hi, true
	return l
}

// reach returns the blocks reachable from b, stop included but not
// passed, without following back edges.
func (c *cfg) reach(b, stop int) map[int]bool {
	seen := map[int]bool{}
	stack := []int{b}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[x] {
			continue
		}
		seen[x] = true
		if x == stop {
			continue
		}
		for _, s := range c.fn.Blocks[x].Term.Succs {
			if t := int(s.Block); !c.isLatch(x, t) {
				stack = append(stack, t)
			}
		}
	}
	return seen
}

// isLatch reports whether the edge from x to h is a back edge.
func (c *cfg) isLatch(x, h int) bool {
	if h < 0 || h >= len(c.latch) {
		return false
	}
	for _, l := range c.latch[h] {
		if l == x {
			return true
		}
	}
	return false
}

// merge returns the block where the two arms of a branch meet: the
// earliest block, in reverse postorder, that both reach (stop when they
// meet only there); -1 when they do not meet (an arm returns).
func (c *cfg) merge(t, f, stop int) int {
	rt, rf := c.reach(t, stop), c.reach(f, stop)
	best := -1
	for b := range rt {
		if rf[b] && (best < 0 || c.rank[b] < c.rank[best]) {
			best = b
		}
	}
	return best
}
