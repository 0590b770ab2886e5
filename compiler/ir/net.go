// This file implements workflow nets: places, transitions, arcs and
// cancellation regions.

package ir

import (
	"fmt"
	"strings"
)

// Net is one workflow as a typed workflow net. A case starts with one
// token on Start (plus the Init tokens of resource places) and completes
// properly when End holds one token and every other place is back to its
// Init count. Case data lives in Vars, which transitions read through
// their functions and write through Result; the first len(Params)
// variables are the parameters.
type Net struct {
	Name        string
	Params      []Param
	Result      TypeID
	Vars        []Var
	Places      []*Place
	Transitions []*Transition
	Arcs        []*Arc
	Regions     []*Region
	Signals     []*Signal
	Queries     []*Query
	Hooks       []*Hook
	Start, End  int32 // place indices
	Loc         Loc
}

// Var is a case variable.
type Var struct {
	Name string
	Type TypeID
	Loc  Loc
}

// Place holds tokens. Init is its token count when a case starts: zero
// for ordinary places, positive for resource places such as the mutex of
// a critical section, which must hold Init tokens again at the end.
type Place struct {
	Name string
	Init int32
	Loc  Loc
}

// Arc connects a place and a transition: an input arc (Out false) goes
// from Place to Trans and consumes Weight tokens; an output arc goes from
// Trans to Place and produces them. Guard, on an output arc of an XOR or
// OR split, is the bool condition under which the arc is taken; an
// unguarded output arc of an XOR split is its default.
type Arc struct {
	Place  int32
	Trans  int32
	Out    bool
	Weight int32
	Guard  FuncID
	Loc    Loc
}

// Region is a set of places and transitions that are cancelled together:
// their tokens are removed and their running invocations cancelled.
type Region struct {
	Name        string
	Places      []int32
	Transitions []int32
	Loc         Loc
}

// Signal is a signal the workflow accepts, with its payload.
type Signal struct {
	Name      string
	Params    []Param
	Transient bool // dropped unless a wait is enabled when it arrives
	Loc       Loc
}

// Query is a read-only view of a running case: Value reads the variables.
type Query struct {
	Name  string
	Value FuncID
	Loc   Loc
}

// HookEvent is what triggers a [Hook].
type HookEvent uint8

// The hook events.
const (
	HookStart    HookEvent = iota // the case starts
	HookEnd                       // the case ends
	HookFail                      // the case is failing, before compensation
	HookComplete                  // task Task (or, Task -1, workflow Label) completes, each time
	HookSignal                    // signal Label arrives, each time, without being consumed
	numHookEvents
)

var hookNames = [...]string{"start", "end", "fail", "complete", "signal"}

func (h HookEvent) String() string {
	if h < numHookEvents {
		return hookNames[h]
	}
	return fmt.Sprintf("event(%d)", h)
}

// Hook is an event-condition-action rule: when Event happens and Cond
// (NoFunc for always) holds, Action runs beside the main path. Hooks are
// outside the net's control flow, so soundness does not consider them.
type Hook struct {
	Name   string
	Event  HookEvent
	Task   int32  // HookComplete: Program.Tasks index, -1 for a workflow
	Label  string // HookSignal: the signal; HookComplete with Task -1: the workflow's net name
	Cond   FuncID
	Action *Call
	// Bind, for an action that calls a workflow (a hook body of its own),
	// is empty when the body receives every argument by value; otherwise
	// it has one entry per Action.Args, and Bind[k] >= 0 makes body
	// variable k an alias of the case's root variable Bind[k], which the
	// body assigns (as a TMulti's Bind does for its instances).
	Bind []int32
	Loc  Loc
}

// TransKind is what a transition does when it fires.
type TransKind uint8

// The transition kinds. Control routing (AND, XOR and OR splits and
// joins, discriminators and partial joins) is not a kind but the Join and
// Split of any transition; a pure routing transition has kind TNop.
const (
	TInvalid  TransKind = iota
	TNop                // routing only
	TTask               // run Call (a task) and store its result in Result
	TWorkflow           // run Call (a workflow) as a child case
	TKernel             // run Call (a kernel)
	TRoute              // learned choice: policy Label picks one of Candidates from Features; Value is the reward
	TTimer              // fires Value (a duration) after it is enabled, or at Value when it is a time (a deadline)
	TSignal             // waits for signal Label; its payload goes to Bind
	TAssign             // Result = Value
	TFail               // fails the case with message Value
	TReturn             // completes the case with result Value (NoFunc when none)
	TCancel             // cancellation only (see Cancel)
	TMulti              // multiple instances of net Call.Target, one per element of Value
	TMarker             // enters or leaves a critical section, interleaving or milestone Label
	TSend               // raises signal Label with the payload and target of Send
	numTransKinds
)

var transKindNames = [...]string{
	TInvalid: "invalid", TNop: "nop", TTask: "task", TWorkflow: "workflow",
	TKernel: "kernel", TRoute: "route", TTimer: "timer", TSignal: "signal",
	TAssign: "assign", TFail: "fail", TReturn: "return", TCancel: "cancel",
	TMulti: "multi", TMarker: "marker", TSend: "send",
}

func (k TransKind) String() string {
	if k < numTransKinds {
		return transKindNames[k]
	}
	return fmt.Sprintf("trans(%d)", k)
}

// JoinKind says when a transition with several input places is enabled.
type JoinKind uint8

// The joins.
const (
	JoinAnd     JoinKind = iota // every input place holds its weight; all are consumed
	JoinXor                     // any one input place is marked; only it is consumed
	JoinOr                      // some input is marked and no token can still reach an empty input (synchronising merge)
	JoinPartial                 // at least JoinN inputs are marked; every marked input is consumed (discriminator when JoinN is 1)
	// JoinDrain is the implicit end of a flow: enabled when its input is
	// marked and nothing in Region (the flow's places and transitions) can
	// still produce a token; it consumes every token of its input, so that
	// the threads a flow ran end in one.
	JoinDrain
	numJoins
)

var joinNames = [...]string{"and", "xor", "or", "partial", "drain"}

func (j JoinKind) String() string {
	if j < numJoins {
		return joinNames[j]
	}
	return fmt.Sprintf("join(%d)", j)
}

// SplitKind says which output places a firing marks.
type SplitKind uint8

// The splits.
const (
	SplitAnd SplitKind = iota // every output
	SplitXor                  // exactly one output: the first whose guard holds, else the unguarded default
	SplitOr                   // every output whose guard holds (at least one)
	numSplits
)

var splitNames = [...]string{"and", "xor", "or"}

func (s SplitKind) String() string {
	if s < numSplits {
		return splitNames[s]
	}
	return fmt.Sprintf("split(%d)", s)
}

// CancelKind says what a transition cancels when it fires, before it
// produces its output tokens.
type CancelKind uint8

// The cancellations.
const (
	CancelNone   CancelKind = iota
	CancelRegion            // Region
	CancelCase              // every place and running invocation of the case
	CancelTask              // every invocation of task Task; Region holds the places of those invocations
	numCancels
)

var cancelNames = [...]string{"none", "region", "case", "task"}

func (c CancelKind) String() string {
	if c < numCancels {
		return cancelNames[c]
	}
	return fmt.Sprintf("cancel(%d)", c)
}

// MarkerKind is what a [TMarker] transition marks.
type MarkerKind uint8

// The markers.
const (
	MarkNone MarkerKind = iota
	MarkCriticalEnter
	MarkCriticalExit
	MarkInterleaveEnter
	MarkInterleaveExit
	MarkMilestoneEnter
	MarkMilestoneExit
	numMarkers
)

var markerNames = [...]string{"none", "critical-enter", "critical-exit", "interleave-enter", "interleave-exit", "milestone-enter", "milestone-exit"}

func (m MarkerKind) String() string {
	if m < numMarkers {
		return markerNames[m]
	}
	return fmt.Sprintf("marker(%d)", m)
}

// CallKind is what a [Call] invokes.
type CallKind uint8

// The callees.
const (
	CallTask     CallKind = iota // Program.Tasks[Target]
	CallWorkflow                 // Program.Nets[Target], as a child case
	CallKernel                   // Program.Kernels[Target]
	numCallKinds
)

var callNames = [...]string{"task", "workflow", "kernel"}

func (c CallKind) String() string {
	if c < numCallKinds {
		return callNames[c]
	}
	return fmt.Sprintf("call(%d)", c)
}

// Call is an invocation with its clauses. Args are functions of the case
// variables, one per parameter of the callee (for a multiple-instance
// body, the parameters after the first, which receives the element).
// Retry is -1 to keep the task's default; Backoff and Timeout are
// duration functions or NoFunc. Undo is the compensation.
type Call struct {
	Kind    CallKind
	Target  int32
	Args    []FuncID
	Retry   int32
	Backoff FuncID
	Timeout FuncID
	Undo    *Call
	Loc     Loc
}

// Transition is a step of a net. Which fields are used depends on Kind
// (see the TransKind constants); unused ones are zero, -1 or nil.
//
// On a TMulti, Bind is empty when the body receives every argument by
// value; otherwise it has one entry per Call.Args, and Bind[k] >= 0 makes
// body variable k+1 an alias of this net's variable Bind[k]: every
// instance reads and writes the parent's variable itself (an assignment
// in the body is atomic, like any transition), so that instances can
// accumulate into it. Bind[k] == -1 passes argument k by value.
//
// A TMulti with Keep produces its outputs at the quorum but lets the
// instances then running finish instead of cancelling them; until they
// have, the transition cannot fire again and its net cannot return. A
// TMulti with a Label starts one more instance per arrival of that
// signal, its payload the element, while its instances run.
type Transition struct {
	Name       string
	Kind       TransKind
	Join       JoinKind
	JoinN      int32 // JoinPartial: how many inputs must be marked
	Split      SplitKind
	Cancel     CancelKind
	Region     int32 // CancelRegion, CancelTask, JoinDrain: Regions index
	Task       int32 // CancelTask: Program.Tasks index
	Call       *Call // TTask, TWorkflow, TKernel, TMulti (the body net)
	Result     int32 // variable that receives the result, or -1
	Value      FuncID
	Limit      FuncID   // TMulti: at most this many instances at a time, or NoFunc
	Quorum     FuncID   // TMulti: complete after this many instances (cancelling the rest), or NoFunc for all
	Keep       bool     // TMulti with a Quorum: the instances running at the quorum run on (see below)
	Features   []FuncID // TRoute
	Candidates []*Call  // TRoute
	Label      string   // TSignal, TRoute, TMarker: the name; TMulti: the signal whose arrivals add instances, or ""
	Marker     MarkerKind
	Bind       []int32 // TSignal: variables that receive the payload; TMulti: see below
	Loc        Loc
	Send       *Send // TSend: the signal's workflow, payload and target
}

// ArcsOf returns the input and output arcs of transition t, in arc order.
// It scans every arc; callers that need it for every transition should
// index the arcs once themselves.
func (n *Net) ArcsOf(t int32) (in, out []*Arc) {
	for _, a := range n.Arcs {
		if a == nil || a.Trans != t {
			continue
		}
		if a.Out {
			out = append(out, a)
		} else {
			in = append(in, a)
		}
	}
	return in, out
}

// BaseName strips the "_<line>" suffix the lowering gives the name of a
// place or transition: "let_stage_43" is "let_stage", "join_11" is
// "join"; a name without one is kept.
func BaseName(name string) string {
	i := strings.LastIndexByte(name, '_')
	if i <= 0 || i == len(name)-1 {
		return name
	}
	for _, r := range name[i+1:] {
		if r < '0' || r > '9' {
			return name
		}
	}
	return name[:i]
}
