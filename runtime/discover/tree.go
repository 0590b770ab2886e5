// This file implements process trees: the miner's result.

package discover

import (
	"slices"
	"strings"
)

// Op is the operator of a process tree node.
type Op int

// The operators. A Loop has two children: the body, done at least once,
// and the redo part, done between two bodies.
const (
	Activity Op = iota // a leaf naming an activity
	Tau                // a silent leaf
	Seq                // children in order
	Xor                // exactly one child
	And                // all children, interleaved
	Loop               // body (redo body)*
)

// Node is a process tree.
type Node struct {
	Op       Op
	Label    string // the activity of an Activity leaf
	Children []*Node
}

func leaf(a string) *Node { return &Node{Op: Activity, Label: a} }
func tau() *Node          { return &Node{Op: Tau} }

// node builds an operator node, flattening children of the same
// associative operator.
func node(op Op, children ...*Node) *Node {
	n := &Node{Op: op}
	for _, c := range children {
		if c.Op == op && op != Loop {
			n.Children = append(n.Children, c.Children...)
		} else {
			n.Children = append(n.Children, c)
		}
	}
	return n
}

// String writes the tree in pm4py's notation: ->( ), X( ), +( ), *( ),
// 'a' for activities and tau.
func (n *Node) String() string {
	var b strings.Builder
	n.write(&b)
	return b.String()
}

func (n *Node) write(b *strings.Builder) {
	switch n.Op {
	case Activity:
		b.WriteString("'" + n.Label + "'")
		return
	case Tau:
		b.WriteString("tau")
		return
	}
	b.WriteString([...]string{Seq: "->", Xor: "X", And: "+", Loop: "*"}[n.Op] + "( ")
	for i, c := range n.Children {
		if i > 0 {
			b.WriteString(", ")
		}
		c.write(b)
	}
	b.WriteString(" )")
}

// Canonical returns an equivalent tree in a normal form, so that two
// trees describing the same model compare equal by String: nested
// operators of one kind flattened, the children of Xor and And sorted,
// a loop's several redo children (PTML's do, redo, exit form, exit tau)
// folded into one Xor redo part, and single-child operators replaced by
// their child.
func (n *Node) Canonical() *Node {
	switch n.Op {
	case Activity, Tau:
		return n
	}
	var cs []*Node
	for _, c := range n.Children {
		cs = append(cs, c.Canonical())
	}
	if n.Op == Loop {
		if len(cs) == 3 && cs[2].Op == Tau { // PTML: do, redo, exit
			cs = cs[:2]
		}
		if len(cs) > 2 {
			cs = []*Node{cs[0], node(Xor, cs[1:]...).Canonical()}
		}
		if len(cs) == 1 {
			cs = append(cs, tau())
		}
		return &Node{Op: Loop, Children: cs}
	}
	if len(cs) == 1 {
		return cs[0]
	}
	m := node(n.Op, cs...)
	if m.Op == Xor || m.Op == And {
		slices.SortStableFunc(m.Children, func(a, b *Node) int { return strings.Compare(a.String(), b.String()) })
	}
	return m
}

// Activities returns the activities of the tree's leaves, in order of
// first appearance.
func (n *Node) Activities() []string {
	var out []string
	seen := map[string]bool{}
	var walk func(*Node)
	walk = func(n *Node) {
		if n.Op == Activity && !seen[n.Label] {
			seen[n.Label] = true
			out = append(out, n.Label)
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(n)
	return out
}
