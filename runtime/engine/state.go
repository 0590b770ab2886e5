// This file implements the state of a case.

package engine

import (
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// Status is where a case is in its life.
type Status uint8

// The statuses.
const (
	Running   Status = iota
	Completed        // the root net's end place is marked
	Failing          // failed; compensations are running
	Failed           // failed and compensated
	Cancelled        // cancelled from outside, or by cancel case once compensated
	// CompFailed: a compensation failed its last attempt; the saga
	// waits, the undo on top of Comp, for RetryCompensation (compretry.go).
	CompFailed
)

var statusNames = [...]string{"running", "completed", "failing", "failed", "cancelled", "compensation-failed"}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "status(?)"
}

// State is everything about one case. It is changed only by
// [Machine.Apply]; the engine reads it to decide what happens next. Two
// replays of the same events produce States that are reflect.DeepEqual.
// Compiled IR is shared by pointer (Inv.Call), never copied.
type State struct {
	ID     string
	Net    int32 // the root net's index in the program
	Status Status
	Result eval.Value // Completed: the value of the return
	Error  string     // Failing, Failed: why
	// ErrorLoc is where the failure happened in the source: the fail
	// statement, the call whose last attempt failed, or the expression
	// whose evaluation failed; ir.NoLoc when unknown.
	ErrorLoc ir.Loc
	Now      int64 // the Time of the last event applied
	Frames   []*Frame
	Invs     []*Inv     // running and backing-off calls, by id
	Timers   []Timer    // armed timer transitions, by frame and transition
	Inbox    []Received // signals that arrived before a wait for them
	Comp     []Undo     // compensation stack, innermost last
	// CompErrors records the compensations that failed their last
	// attempt, "task: why"; the saga stops at each (CompFailed) until it
	// is retried.
	CompErrors []string
	// Cancel marks a case that a cancel case statement ended: it is
	// Failing while its compensations run and then Cancelled, not Failed.
	Cancel bool
	// HookQ lists the hooks whose event has happened and whose condition
	// the scheduler has yet to evaluate, oldest first; an EvHook resolves
	// the first.
	HookQ []HookRef
	// HookErrors records the hooks that failed: an action that failed for
	// good, or a condition or argument that could not be evaluated. The
	// case goes on.
	HookErrors []string
	// Closing is what the case becomes (Completed, or Failing to start
	// compensating) once its hooks are done, when its main path ended
	// while hooks were queued or running; Running otherwise.
	Closing   Status
	NextFrame int32
	NextInv   int32
	// Outbox holds the signals the case sent to other cases that are not
	// yet delivered; NextSend counts its sends; MailSeen maps each case
	// that sent it mail to the number of the latest one delivered;
	// Undelivered says which sends could not be delivered and why (see
	// send.go).
	Outbox      []Mail
	NextSend    int32
	MailSeen    map[string]int32
	Undelivered []string
}

// Frame is one instance of a net: the root net of the case (frame 0), a
// child running as one instance of a TMulti or the callee of a
// TWorkflow, or a hook's workflow action (a top-level frame other than
// 0).
type Frame struct {
	ID      int32
	Net     int32
	Parent  int32 // parent frame, -1 for the root and hook actions
	Trans   int32 // the parent's TMulti or TWorkflow transition; a hook action's hook index
	Scope   int32 // a hook action: the frame whose net declares the hook
	Index   int32 // instance number within its group
	Marking []int32
	Vars    []eval.Value
	// Alias, when not nil, maps a variable to the parent frame's variable
	// it shares (a parallel for's Bind), or -1.
	Alias  []int32
	Result eval.Value // the value of the net's return
	Groups []*Group
	// Held lists the milestones the frame holds, once per branch inside
	// each (see mark).
	Held []string
	// Ending marks a sub-workflow's frame whose body has completed and
	// whose end hooks are queued: it completes once they are resolved.
	Ending bool
	// calls counts the invocations in State.Invs whose Frame is this
	// one (see addInv); it is derived from them, not encoded.
	calls int32
}

// Group tracks the children of one running TMulti or TWorkflow
// transition of a frame.
type Group struct {
	Trans   int32
	Items   []eval.Value // one per instance (more on appends); nil elements for a TWorkflow
	Args    []eval.Value // arguments passed to every instance
	Next    int32        // the next item to start
	Running int32
	Done    int32
	Limit   int32 // 0: no limit
	Quorum  int32 // 0: every item
	Results []eval.Value
	// Joined marks a group of a TMulti with keep whose quorum was
	// reached: the transition has produced its outputs and the instances
	// still running run on; the group is dropped when the last one ends.
	Joined bool
	// Closed marks a group of a TMulti whose task a cancel task withdrew:
	// it starts no more instances (more on adds none) and completes when
	// the ones running end (see closeGroups).
	Closed bool
}

// Inv is a task or kernel call, or a compensation, with its attempts.
type Inv struct {
	ID       int32
	Frame    int32 // -1 for a compensation
	Trans    int32 // -1 for a compensation
	Call     *ir.Call
	Args     []eval.Value
	Attempt  int32 // the current attempt, from 1
	Attempts int32 // attempts allowed
	Timeout  int64
	Waiting  bool  // backing off until Due
	Due      int64 // Waiting: when the next attempt is ready
	Comp     bool
	// Started is when the call started (its EvFire); a route's reward
	// measures its duration from there.
	Started int64
	// Features are the feature values of a route's call (see
	// Event.Features).
	Features []eval.Value
	// Hook marks a hook's action: Frame is -1, Trans the hook's index in
	// the Hooks of the net of frame Scope, which declares it.
	Hook  bool
	Scope int32
}

// HookRef names a hook: hook Hook of the net that frame Frame runs (the
// root, or a sub-workflow's frame: see [Machine.scopeOf]).
type HookRef struct {
	Frame, Hook int32
}

// Timer is an armed timer transition.
type Timer struct {
	Frame, Trans int32
	Due          int64
}

// Received is a buffered signal.
type Received struct {
	Name    string
	Payload []eval.Value
}

// Undo is a compensation to run if the case fails.
type Undo struct {
	Call *ir.Call
	Args []eval.Value
}

// frame returns the frame with id, or nil.
func (s *State) frame(id int32) *Frame {
	if i := s.frameAt(id); i >= 0 {
		return s.Frames[i]
	}
	return nil
}

// inv returns the invocation with id and its position, or nil.
func (s *State) inv(id int32) (*Inv, int) {
	if i := s.invAt(id); i >= 0 {
		return s.Invs[i], i
	}
	return nil, -1
}

// aliasParent is the frame whose variables f's aliases name: its parent,
// or for the top frame of a hook's action the frame that declares the
// hook (nil once it has ended: the action then keeps its own copies).
func (s *State) aliasParent(f *Frame) *Frame {
	if f.Parent < 0 && f.ID != 0 {
		return s.frame(f.Scope)
	}
	return s.frame(f.Parent)
}

// Var reads variable i of frame f, through the aliases of shared
// variables.
func (s *State) Var(f *Frame, i int32) eval.Value {
	for f.Alias != nil && i >= 0 && int(i) < len(f.Alias) && f.Alias[i] >= 0 {
		p := s.aliasParent(f)
		if p == nil {
			break
		}
		i, f = f.Alias[i], p
	}
	if i < 0 || int(i) >= len(f.Vars) {
		return eval.Value{}
	}
	return f.Vars[i]
}

func (s *State) setVar(f *Frame, i int32, v eval.Value) {
	for f.Alias != nil && i >= 0 && int(i) < len(f.Alias) && f.Alias[i] >= 0 {
		p := s.aliasParent(f)
		if p == nil {
			break
		}
		i, f = f.Alias[i], p
	}
	if i >= 0 && int(i) < len(f.Vars) {
		f.Vars[i] = v
	}
}

// Root returns the case's root frame, nil before the start.
func (s *State) Root() *Frame { return s.frame(0) }

// Done reports whether the case has finished (completed, failed or
// cancelled).
func (s *State) Done() bool {
	return s.Status == Completed || s.Status == Failed || s.Status == Cancelled
}
