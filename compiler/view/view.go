// This file implements the view's types.

package view

import (
	"strings"

	"github.com/knhk/knhk/compiler/ir"
)

// Kind is what a [Node] stands for.
type Kind uint8

// The node kinds.
const (
	Start    Kind = iota // the case starts
	End                  // the case completes (the net's end place)
	Task                 // a call: task, kernel, sub-workflow, learned route or parallel for
	Choice               // if, guard, while, choose, select or multi: one or some branches are taken
	Parallel             // every branch starts
	Join                 // branches meet: all, any, n of them, or a synchronising merge
	Wait                 // waits for a signal
	Timer                // waits for a duration or a deadline
	Send                 // raises a signal
	Cancel               // cancels a task, region or the case
	Fail                 // fails the case
	numKinds
)

var kindNames = [...]string{"start", "end", "task", "choice", "parallel", "join", "wait", "timer", "send", "cancel", "fail"}

func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "kind?"
}

// Node is one user-level step of a workflow.
type Node struct {
	ID   int
	Kind Kind
	// Name is the source name: the callee of a task, the signal of a wait
	// or send, the keyword of a choice ("if", "while", "select"), the
	// duration of a timer as written. It never carries the lowering's
	// "_N" suffixes.
	Name string
	// Detail says more where the kind needs it: the rule of a join
	// ("all", "any", "2 of"), "for each" of a parallel for, what a
	// cancel cancels.
	Detail string
	// Trans is the net transition the node stands for, -1 for Start and
	// End.
	Trans int32
	Loc   ir.Loc
	// Child is the net a parallel for or sub-workflow call starts, -1
	// when none.
	Child int32
}

// Label is the node's one-line caption: kind where the name alone is
// unclear, then name and detail.
func (n *Node) Label() string {
	s := n.Name
	switch n.Kind {
	case Wait:
		s = "wait " + s
	case Timer:
		s = "timer " + s
	case Send:
		s = "send " + s
	case Cancel:
		s = "cancel " + s
	case Join:
		s = "join"
	}
	if n.Detail != "" {
		s += " " + n.Detail
	}
	return strings.TrimSpace(s)
}

// Edge is a path of the net from one node to the next that passes only
// through places and bookkeeping transitions.
type Edge struct {
	From, To int
	// Guard is the condition of a choice's branch (the function of its
	// first arc), ir.NoFunc when none; Default marks the branch an XOR
	// choice takes when no condition holds.
	Guard   ir.FuncID
	Default bool
	// Label is the guard as written, when the builder had the source.
	Label string
}

// Graph is the view of one net.
type Graph struct {
	Net   int // index in Program.Nets
	Name  string
	Nodes []Node
	Edges []Edge
	// TransNode maps each transition of the net to its node, -1 for a
	// bookkeeping transition.
	TransNode []int
	// PlaceNodes maps each place to the nodes a token there waits for:
	// the next user-level steps it can reach through bookkeeping.
	PlaceNodes [][]int
}

// Visible reports whether transition t of the net is a node of the view.
func (g *Graph) Visible(t int32) bool {
	return t >= 0 && int(t) < len(g.TransNode) && g.TransNode[t] >= 0
}
