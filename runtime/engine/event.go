// This file implements events: the only inputs that change a case.

package engine

import (
	"fmt"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// EventKind says what an [Event] records.
type EventKind uint8

// The event kinds.
const (
	EvInvalid EventKind = iota
	EvStart             // the case starts: Net is Trans, Values the arguments
	EvFire              // transition Trans of frame Frame fires (starts, for calls)
	EvArm               // timer transition Trans of Frame is armed to fire at Due
	EvTimer             // armed timer transition Trans of Frame fires
	EvDone              // invocation Inv completed with result Values[0]
	EvFailed            // attempt Attempt of invocation Inv failed with Message; retry at Due
	EvRetry             // invocation Inv's backoff ended: its next attempt is ready
	EvSignal            // signal Name arrived with payload Values
	EvFail              // the case fails with Message (for example an evaluation error)
	EvCancel            // the case is cancelled from outside
	// EvHook resolves the first queued hook, Trans (an index into the
	// Hooks of the net of frame Frame, which declares it): with Choice 1 its condition held and its action
	// starts with arguments Values (a task call with Attempts and
	// Timeout); with Choice 0 it did not; a Message is why evaluating
	// it failed.
	EvHook
	// EvSent settles mail Name of the case's outbox (see send.go): it was
	// delivered, or, with a Message, could not be and why.
	EvSent
	// EvCompRetry starts again the compensation that failed for good in a
	// CompFailed case (compretry.go).
	EvCompRetry
	numEventKinds
)

var eventNames = [...]string{"invalid", "start", "fire", "arm", "timer", "done", "failed", "retry", "signal", "fail", "cancel", "hook", "sent", "comp-retry"}

func (k EventKind) String() string {
	if k < numEventKinds {
		return eventNames[k]
	}
	return fmt.Sprintf("event(%d)", k)
}

// Event is one step of a case. It carries every outcome of the
// non-deterministic world (time, evaluated values, chosen arcs, task
// results), so that [Machine.Apply] needs nothing else. Which fields are
// used depends on Kind; the rest are zero.
type Event struct {
	Kind  EventKind
	Time  int64 // Unix nanoseconds when the event was made
	Frame int32 // the net instance (0 is the case's root net); EvFail: set inside a hook action
	Trans int32 // transition index in the frame's net; EvStart: net index
	Inv   int32 // EvDone, EvFailed, EvRetry: invocation id
	// Outs lists the output arcs taken, as indices into the transition's
	// output arcs in arc order; nil takes every output (AND split).
	Outs []int32
	// Values: EvStart the arguments; EvFire of an assign, return or fail
	// its value, of a call its arguments, of a multiple-instance
	// transition the items followed by the arguments; EvDone the result;
	// EvSignal the payload; EvHook the action's arguments.
	Values []eval.Value
	// Undo holds the evaluated arguments of the compensation of a
	// completed call (EvDone), nil when it has none.
	Undo     []eval.Value
	Attempts int32  // EvFire of a call, EvHook of a task: attempts allowed (1 + retries)
	Limit    int32  // EvFire of a TMulti: instances at a time, 0 for no limit
	Quorum   int32  // EvFire of a TMulti: instances to wait for, 0 for all
	Timeout  int64  // EvFire of a call, EvHook of a task: nanoseconds per attempt, 0 for none
	Due      int64  // EvArm, EvFailed: Unix nanoseconds
	Attempt  int32  // EvFailed: the attempt that failed
	Choice   int32  // EvFire of a TRoute: the candidate chosen; EvHook: 1 when the action starts
	Name     string // EvSignal: the signal; EvFire of a TSend: the target case, "" for itself; EvSent: the mail
	Message  string // EvFailed, EvFail, EvHook: why; EvSent: why the mail was not delivered
	// From is the id of the mail an EvSignal delivers when another case
	// sent it (see send.go), "" otherwise.
	From string
	// Features are the feature values a TRoute's policy chose from
	// (EvFire of a TRoute), kept with the call for its reward.
	Features []eval.Value
	// Reward is what the chosen call of a route earned (EvDone, and
	// EvFailed of the last attempt, of a route's call), when Rewarded.
	Reward   float64
	Rewarded bool
	// Loc is where in the source an EvFail happened: the failing
	// expression when the evaluator reported one (see [Located]), else the
	// transition being scheduled. It travels in the event because Apply
	// cannot re-run the evaluator to find it.
	Loc ir.Loc

	// untyped is set by DecodeEvent: Values, Undo and Features are as
	// the log stores them, without their types, until Apply (or
	// TypeEvent) types them (valuetypes.go).
	untyped bool
}

// Located is implemented by evaluation errors that know the source
// location of the expression that failed (runtime/eval's *Error). Reason
// is the message without the location.
type Located interface {
	error
	Location() ir.Loc
	Reason() string
}
