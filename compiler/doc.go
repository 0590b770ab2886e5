// Package compiler lowers a checked KNHK package to the IR (package
// compiler/ir): types to the type table, fns and kernels to functions in
// register form, tasks to their bindings and default clauses, and each
// workflow to a typed workflow net. [Lower] is the entry point; the
// soundness analysis (compiler/sound) then runs on the nets it builds.
//
// One file per construct, after go/types:
//
//   - lower.go: Lower, the declarations of a package and its imports
//   - types.go: checked types to IR types (records in name order)
//   - expr.go: expressions, lambdas lifted with their captured registers
//   - decl.go: fns and tasks; kernel.go: kernel bodies in SSA form
//   - net.go: continuations, places, transitions and net functions
//   - workflow.go: a workflow's net, signals, queries and hooks
//   - stmt.go: sequence, let, assignment, calls, guard, fail, return
//   - choose.go: if, choose (XOR split) and multi (OR split, OR join)
//   - parallel.go: parallel with join all/any/N, interleave
//   - loop.go: for, while, break, continue; parallel for as multiple
//     instances of a body net
//   - multi.go: a parallel for's join (constant or computed quorum, keep)
//     and more on (the signal that adds instances)
//   - subnet.go: child nets for parallel for bodies and hook bodies, with
//     the variables they read passed in (and, for a parallel for, those
//     they assign shared: [ir.Transition].Bind)
//   - select.go: the deferred choice over signals, timers and calls
//   - cancel.go: regions and cancel region/task/case
//   - marker.go: critical sections and milestones
//   - route.go: learned routes; flow.go: explicit flow nets
//
// Statements are lowered in continuation style: each returns where
// control goes next, either a marked place or the pending output arcs of
// the transitions that end it, so that the arms of a choice flow into one
// merge place without extra routing transitions. Every instruction,
// transition, arc and place carries the span of the source it came from.
//
// The shapes the interpreter and the back ends see:
//
//   - Records are positional in the IR with their fields sorted by name,
//     because the language's records are structural in any order.
//   - A void workflow ends with a TReturn transition "end" without a
//     value. return and fail produce the end token; inside parallel,
//     multi, interleave, critical or region (where other branches may run
//     or resources be held) they also cancel the case (CancelCase).
//   - guard is an XOR split whose guarded arc continues and whose default
//     arc leads to a TFail; if/choose are XOR splits with arcs in source
//     order; multi is an OR split (its else arc is guarded by "no
//     condition holds", and without an else that arc goes straight to the
//     OR join).
//   - parallel join any/N is a partial join that cancels the region of
//     every place and transition of the branches. A region cancellation
//     that covers every user of a critical-section or interleave mutex
//     also puts the mutex token back.
//   - region R has an "active" place marked while R runs. cancel region R
//     is two transitions from one place: the TCancel takes the active
//     token, clears R and marks R's exit; the TNop "..._idle" applies when
//     R is not running. The interpreter should prefer the TCancel whenever
//     it is enabled. A cancel inside R itself is the TCancel alone, which
//     also ends its own branch.
//   - select: the arms' transitions share one place (deferred choice). An
//     "on done CALL" arm's call starts on a branch of its own when the
//     select starts; every arm cancels the region of those calls. A
//     timer's function returns a duration (from the start of the select)
//     or a time (a deadline).
//   - A sequential for keeps the items and an index in variables named
//     "x.items" and "x.index" (a range uses x itself and "x.hi").
//   - A parallel for is a TMulti over a body net named "W.for_LINE" whose
//     parameters are the element and the workflow variables the body
//     reads; those it assigns are shared through Transition.Bind. Its
//     join count is the Quorum function, keep sets Keep, and more on S
//     sets Label to S (declared on the body's net too when the loop is
//     nested). A workflow call whose outputs the caller chooses among (a
//     flow step with conditional arcs) is followed by a TNop "returned"
//     that carries them: the engine takes every output of a call of a
//     workflow. A hook
//     body other than a single call becomes a net "W.hook_NAME" called as
//     a workflow with the variables it reads.
//   - A route's reward function takes the chosen call's duration and
//     returns float; a duration reward is converted to seconds.
//   - break and continue leave the critical sections (returning their
//     mutex), milestones and regions they are inside.
//
// A construct the lowering cannot handle is reported as an error with
// code not-implemented at its span, never dropped.
package compiler
