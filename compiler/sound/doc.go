// Package sound decides whether a workflow net is sound, as a compile
// gate: from its start, every reachable state can still complete, a
// completed case leaves no token behind, nothing deadlocks, and every
// transition can fire in some run (van der Aalst's soundness).
//
// [Check] explores the control-flow state space of one [ir.Net]
// breadth-first, so that every problem comes with a shortest sequence of
// steps from the start that reaches it. Data is abstracted away: every
// guard may be true or false, so an XOR split may take any of its arcs
// and an OR split any non-empty subset of them. States are markings
// (token counts per place), hash-consed so that each is stored once.
//
// Semantics of the constructs, as the engine (runtime/engine) implements
// them; the two are held to each other by a differential test (below):
//
//   - Scheduling. A transition that takes no time (routing, assignment,
//     return, fail, cancellation, markers, send) fires as soon as it is
//     enabled, before any call completes, timer comes due or signal
//     arrives; of several, the engine fires the first in its order
//     (cancellations first, then by index), so the model does the same
//     and explores no other order. Calls (task, kernel, sub-workflow,
//     multiple instances, learned routes) take time: an enabled call is a
//     running one, and running calls complete in any order. A signal
//     wakes the first enabled wait for it, by index.
//   - AND join: every input holds its weight; XOR join: one input is
//     consumed; partial join N: at least N inputs are marked and every
//     marked input is consumed.
//   - OR join (synchronising merge): enabled when some input is marked and
//     no token can still reach an empty input. "Can still reach" is the
//     structural approximation: some marked place has a path to the empty
//     input that does not pass through the join itself. It errs on the
//     side of waiting, never on firing early.
//   - Drain join (the implicit end of a flow): enabled when its input is
//     marked and no place of the flow's region holds a token; it consumes
//     every token of its input, so a flow whose threads reach its end
//     several times (multi-merge, thread split) ends once.
//   - Cancellation removes the tokens of a region's places, or of every
//     place for a cancelled case (resource places return to their initial
//     count), before the transition produces its outputs. A cancel task
//     first withdraws the calls of the task that are enabled (running, or
//     ready in the same step) and lets each one's branch go on as if it
//     had completed, unless the call chooses among its outputs; then it
//     clears its region (the input places of the task's calls).
//   - The end. When the end place is marked the case (or sub-workflow)
//     is over: nothing fires any more and the engine withdraws what is
//     left. Proper completion still requires that nothing is left, except
//     tokens on doomed places: places from which every path ends the case
//     (a return, fail or cancel case in a branch of a parallel). Such a
//     branch races the rest of the case to its end, and whichever comes
//     first ends the case.
//   - Sub-workflows and multiple instances are single transitions here:
//     each instance runs as its own coloured copy of its body net, which
//     is checked on its own, so a body that is sound for one instance is
//     sound for any number of them, zero included. The parent net therefore
//     needs no instance counting, which keeps its state space bounded.
//   - Resource places (Init > 0), such as critical-section mutexes, must
//     hold their initial tokens again when the case completes.
//
// A call counts as fired, for dead transitions, once it is enabled: it
// has started in the engine even when what fires at once withdraws it.
//
// # One semantics, tested twice
//
// The engine's firing rules and this model are two implementations of
// one semantics, so they are tested against each other rather than
// trusted (runtime/engine, sounddiff_test.go and
// sounddiff_random_test.go). [Reachable] gives every marking the model
// reaches, without reduction. The test drives the engine in its
// reproducible rounds mode through its own scheduler, enumerating every
// data choice (each guard true or false), every order of call
// completions, timers and awaited signals, and maps each engine state to
// the model's terms (a running call still holds its input tokens; an
// ended case is one marking). Every marking the engine reaches must be
// one the model reaches, and every stable model marking (one in which
// nothing fires at once) must be one the engine reaches. The second holds
// only for nets without sub-workflow or parallel-for calls: the model
// takes such a call as one step that takes time and may complete, while
// in the engine its body may end the whole case or finish at once. It runs on
// every program in the repository (patterns, examples, compiler golden
// inputs) and on a few hundred random programs of nested parallels with
// every join, choices, loops, deferred choices, regions and their
// cancellation, cancel task, critical sections, parallel for loops,
// sub-workflows, and return, fail and cancel case in branches. Failures of calls and evaluation are outside both.
//
// To keep the state space of parallel branches small, a transition whose
// only input place feeds nothing else, and which cannot be disturbed by
// cancellation or OR joins, is fired eagerly right after the step that
// enabled it (a partial-order reduction: such a step commutes with every
// other and can never be disabled, so no deadlock, leftover token or dead
// transition is hidden). Its firing still appears in traces. The
// reduction can be switched off with [Options].NoReduce.
//
// An OR split with more than ten outputs is explored with each single
// output and all of them together rather than every subset.
//
// A problem converts to lang/source diagnostics with [Report.Diagnostics],
// in source terms (describe.go): the statements of its trace with their
// lines and what is left waiting, never place or transition names, at
// the statement that causes it, the steps of its trace becoming related
// locations; [Report.Summary] is
// the line `knhk check -v` prints (states, edges, time).
//
// Exploration stops after [Options].MaxStates states with an
// [Incomplete] warning ("could not prove ... within N states") instead of
// running on, and a place holding more than [Options].TokenBound tokens
// is reported as [Unbounded].
package sound
