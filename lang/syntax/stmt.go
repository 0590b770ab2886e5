// This file implements the statement nodes of workflow and kernel bodies.
// Nodes with participle tags are parsed by participle; the common ones
// without (let, assignments and calls, guard, fail, if, for, blocks) are
// parsed by hand in parse_stmt.go, whose EBNF constant is their grammar.

package syntax

import "github.com/knhk/knhk/lang/source"

// Stmt is a statement in a workflow or kernel body.
type Stmt interface {
	source.Spanned
	stmt()
}

// Block is { stmt* }. It is parsed by hand (see Parse) because it is the
// statement loop: a direct call per statement instead of participle's
// reflective one.
type Block struct {
	Node
	Stmts []Stmt
}

// LetStmt binds a name: "let x = e" or "var x: T = e", optionally with
// clauses when e is a task call: "let r = reserve(o.items) retry 3".
type LetStmt struct {
	Node
	Keyword string
	Name    *Name
	Type    *Type
	Value   Expr
	Clauses []*Clause
}

// GuardStmt is "guard cond else fail message".
type GuardStmt struct {
	Node
	Cond    Expr
	Message Expr
}

// FailStmt is "fail message": explicit failure of the case.
type FailStmt struct {
	Node
	Message Expr
}

// ParallelStmt runs each statement of its block as a branch.
type ParallelStmt struct {
	Node
	Body *Block `parser:"'parallel' @@"`
	Join *Join  `parser:"@@?"`
}

// When is one guarded branch of choose or multi.
type When struct {
	Node
	Cond Expr `parser:"'when' @@ '->'"`
	Body Stmt `parser:"@@"`
}

// Else is the default branch of choose or multi.
type Else struct {
	Node
	Body Stmt `parser:"'else' '->' @@"`
}

// ChooseStmt is an exclusive choice: the first true branch runs.
type ChooseStmt struct {
	Node
	Whens []*When `parser:"'choose' '{' @@*"`
	Else  *Else   `parser:"@@? '}'"`
}

// MultiStmt is a multi-choice: every true branch runs, and the statement
// completes when all started branches have (synchronising merge).
type MultiStmt struct {
	Node
	Whens []*When `parser:"'multi' '{' @@*"`
	Else  *Else   `parser:"@@? '}'"`
}

// IfStmt is "if cond { } else if ... else { }".
type IfStmt struct {
	Node
	Cond   Expr
	Then   *Block
	ElseIf *IfStmt
	Else   *Block
}

// ForStmt iterates over a list, or over a range lo..hi in kernels. With
// parallel it starts one instance per element (multiple instances), at most
// Limit at a time, merged by Join.
type ForStmt struct {
	Node
	Var      *Name
	Iter     Expr
	Parallel bool
	Limit    Expr
	// More, "more on S", names the signal whose every arrival while the
	// instances run starts one more instance with its payload (WCP 15).
	More *Name
	Body *Block
	Join *Join
}

// WhileStmt is a structured loop.
type WhileStmt struct {
	Node
	Cond Expr   `parser:"'while' @@"`
	Body *Block `parser:"@@"`
}

// BranchStmt is break or continue.
type BranchStmt struct {
	Node
	Keyword string `parser:"@( 'break' | 'continue' )"`
}

// SelectStmt is a deferred choice: the first arm whose event happens runs,
// the others are withdrawn.
type SelectStmt struct {
	Node
	Arms []*Arm `parser:"'select' '{' @@* '}'"`
}

// Arm is one event of a select: a signal, a timer, or the completion of a
// task or sub-workflow started by the select.
type Arm struct {
	Node
	Signal *Name    `parser:"'on' ( 'signal' @@"`
	Params []*Param `parser:"  ( '(' ( @@ ( ',' @@ )* ','? )? ')' )?"`
	Timer  Expr     `parser:"| 'timer' @@"`
	Done   Expr     `parser:"| 'done' @@"`
	As     *Name    `parser:"  ( 'as' @@ )? )"`
	Body   Stmt     `parser:"'->' @@"`
}

// CancelStmt is cancel task NAME | cancel region NAME | cancel case.
type CancelStmt struct {
	Node
	Kind   string `parser:"'cancel' ( @'case' | @( 'task' | 'region' )"`
	Target *Name  `parser:"  @@ )"`
}

// RegionStmt names a cancellation region.
type RegionStmt struct {
	Node
	Name *Name  `parser:"'region' @@"`
	Body *Block `parser:"@@"`
}

// CriticalStmt is a critical section: at most one branch (across the case)
// is inside a section of the same name at a time.
type CriticalStmt struct {
	Node
	Name *Name  `parser:"'critical' @@"`
	Body *Block `parser:"@@"`
}

// InterleaveStmt runs each statement of its block once, in any order, one
// at a time (interleaved parallel routing).
type InterleaveStmt struct {
	Node
	Body *Block `parser:"'interleave' @@"`
}

// MilestoneStmt holds the named milestone while its body runs; "when
// milestone M" conditions elsewhere test it.
type MilestoneStmt struct {
	Node
	Name *Name  `parser:"'milestone' @@"`
	Body *Block `parser:"@@"`
}

// FlowStmt is an explicit net: named steps and arcs between them, for
// arbitrary cycles and multi-merge that block structure cannot express.
type FlowStmt struct {
	Node
	Items []FlowItem `parser:"'flow' '{' @@* '}'"`
}

// FlowItem is a Step or an Arc.
type FlowItem interface {
	source.Spanned
	flowItem()
}

// Step is "step name = call clauses".
type Step struct {
	Node
	Name    *Name     `parser:"'step' @@ '='"`
	Call    Expr      `parser:"@@"`
	Clauses []*Clause `parser:"@@*"`
}

// Arc is "a, b -> c, d join all when cond". The pseudo-steps start and end
// mark the net's entry and exit.
type Arc struct {
	Node
	From []*Name `parser:"@@ ( ',' @@ )* '->'"`
	To   []*Name `parser:"@@ ( ',' @@ )*"`
	// Threads, "* N", starts N threads of control in each target (thread
	// split, WCP 42).
	Threads Expr  `parser:"( '*' @@ )?"`
	Join    *Join `parser:"@@?"`
	When    Expr  `parser:"( 'when' @@ )?"`
}

// RouteStmt is a learned choice: the engine picks one of the candidate
// calls from the features, and learns from the reward.
type RouteStmt struct {
	Node
	Name       *Name  `parser:"'route' 'learn' @@"`
	Features   []Expr `parser:"'(' ( @@ ( ',' @@ )* ','? )? ')'"`
	Candidates []Expr `parser:"'among' '{' @@ ( ',' @@ )* ','? '}'"`
	Reward     Expr   `parser:"( 'reward' @@ )?"`
}

// HookStmt is an event-condition-action rule inside a workflow.
type HookStmt struct {
	Node
	Name   *Name  `parser:"'hook' @@ 'on'"`
	Event  string `parser:"( @'start' | @'end' | @'fail' | ( @'complete' | @'signal' )"`
	Target *Name  `parser:"  @@ )"`
	Cond   Expr   `parser:"( 'when' @@ )?"`
	Body   Stmt   `parser:"'->' @@"`
}

// SignalDecl declares a signal the workflow accepts. A persistent signal
// is kept until consumed; a transient one is lost if nobody waits for it.
type SignalDecl struct {
	Node
	Name      *Name    `parser:"'signal' @@"`
	Params    []*Param `parser:"( '(' ( @@ ( ',' @@ )* ','? )? ')' )?"`
	Transient bool     `parser:"( @'transient' | 'persistent' )?"`
}

// QueryDecl exposes a read-only view of a running case.
type QueryDecl struct {
	Node
	Name   *Name `parser:"'query' @@"`
	Result *Type `parser:"'->' @@"`
	Value  Expr  `parser:"'=' @@"`
}

// BlockStmt is a nested block, used to group several statements into one
// branch.
type BlockStmt struct {
	Node
	Block *Block
}

// ExprStmt is a call used as a statement, or an assignment "x = e" /
// "out[i] = e", with optional clauses on a task call.
type ExprStmt struct {
	Node
	X       Expr
	Value   Expr
	Clauses []*Clause
}

func (*LetStmt) stmt()        {}
func (*GuardStmt) stmt()      {}
func (*FailStmt) stmt()       {}
func (*ReturnStmt) stmt()     {}
func (*ParallelStmt) stmt()   {}
func (*ChooseStmt) stmt()     {}
func (*MultiStmt) stmt()      {}
func (*IfStmt) stmt()         {}
func (*ForStmt) stmt()        {}
func (*WhileStmt) stmt()      {}
func (*BranchStmt) stmt()     {}
func (*SelectStmt) stmt()     {}
func (*CancelStmt) stmt()     {}
func (*RegionStmt) stmt()     {}
func (*CriticalStmt) stmt()   {}
func (*InterleaveStmt) stmt() {}
func (*MilestoneStmt) stmt()  {}
func (*FlowStmt) stmt()       {}
func (*RouteStmt) stmt()      {}
func (*HookStmt) stmt()       {}
func (*SignalDecl) stmt()     {}
func (*QueryDecl) stmt()      {}
func (*BlockStmt) stmt()      {}
func (*ExprStmt) stmt()       {}

func (*Step) flowItem() {}
func (*Arc) flowItem()  {}
