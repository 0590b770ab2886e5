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
// Semantics of the constructs, as the runtime implements them:
//
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
//     count), before the transition produces its outputs.
//   - Sub-workflows and multiple instances are single transitions here:
//     each instance runs as its own coloured copy of its body net, which
//     is checked on its own, so a body that is sound for one instance is
//     sound for any number of them, zero included. The parent net therefore
//     needs no instance counting, which keeps its state space bounded.
//   - Resource places (Init > 0), such as critical-section mutexes, must
//     hold their initial tokens again when the case completes.
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
// the steps of its trace becoming related locations; [Report.Summary] is
// the line `knhk check -v` prints (states, edges, time).
//
// Exploration stops after [Options].MaxStates states with an
// [Incomplete] warning ("could not prove ... within N states") instead of
// running on, and a place holding more than [Options].TokenBound tokens
// is reported as [Unbounded].
package sound
