// This file implements the Petri net of a process tree, which token
// replay runs on.

package discover

// net is a workflow net: one source place, one sink place, transitions
// with a label (an activity) or silent.
type net struct {
	places      int
	source, end int
	trans       []transition
	byLabel     map[string][]int
	into        [][]int // place -> silent transitions with it as an output
}

type transition struct {
	label   string // "" when silent
	in, out []int
}

// netOf translates a process tree into a sound workflow net, block by
// block: a silent transition fences each operator whose children share
// places, so that a loop's redo never returns into an enclosing choice.
func netOf(n *Node) *net {
	p := &net{byLabel: map[string][]int{}}
	p.source, p.end = p.place(), p.place()
	p.build(n, p.source, p.end)
	p.into = make([][]int, p.places)
	for i, t := range p.trans {
		if t.label != "" {
			p.byLabel[t.label] = append(p.byLabel[t.label], i)
			continue
		}
		for _, q := range t.out {
			p.into[q] = append(p.into[q], i)
		}
	}
	return p
}

func (p *net) place() int { p.places++; return p.places - 1 }

func (p *net) add(label string, in, out []int) {
	p.trans = append(p.trans, transition{label: label, in: in, out: out})
}

func (p *net) build(n *Node, in, out int) {
	switch n.Op {
	case Activity:
		p.add(n.Label, []int{in}, []int{out})
	case Tau:
		p.add("", []int{in}, []int{out})
	case Seq:
		cur := in
		for i, c := range n.Children {
			next := out
			if i < len(n.Children)-1 {
				next = p.place()
			}
			p.build(c, cur, next)
			cur = next
		}
	case Xor:
		for _, c := range n.Children {
			if c.Op == Activity || c.Op == Tau {
				p.build(c, in, out)
				continue
			}
			ci, co := p.place(), p.place()
			p.add("", []int{in}, []int{ci})
			p.build(c, ci, co)
			p.add("", []int{co}, []int{out})
		}
	case And:
		var ins, outs []int
		for _, c := range n.Children {
			ci, co := p.place(), p.place()
			ins, outs = append(ins, ci), append(outs, co)
			p.build(c, ci, co)
		}
		p.add("", []int{in}, ins)
		p.add("", outs, []int{out})
	case Loop:
		li, lo := p.place(), p.place()
		p.add("", []int{in}, []int{li})
		p.build(n.Children[0], li, lo)
		for _, r := range n.Children[1:] {
			if r.Op == Tau && len(n.Children) == 3 && r == n.Children[2] {
				break // PTML's exit child
			}
			ri, ro := p.place(), p.place()
			p.add("", []int{lo}, []int{ri})
			p.build(r, ri, ro)
			p.add("", []int{ro}, []int{li})
		}
		p.add("", []int{lo}, []int{out})
	}
}
