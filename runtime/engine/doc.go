// Package engine is the deterministic core of the KNHK interpreter: it
// runs the workflow nets of a compiled [ir.Program] as cases.
//
// A case's whole state is a [State]: the marking and variables of its
// root net and of every running child net (multiple instances and
// sub-workflows, each a coloured copy of its body net with its own
// marking), the armed timers, the buffered signals, the running task
// invocations and the compensation stack. [Machine.Apply] is the only
// way a State changes: it folds one [Event] into it, reads no clock and
// no randomness, and calls no evaluator, so that replaying the same
// events always rebuilds the same State. That is what crash recovery does
// here and what a Raft state machine will do in cluster mode.
//
// Values are runtime/eval's [eval.Value] throughout: in the State, in
// events, in snapshots and across the Evaluator, Worker and Policy
// interfaces; the event log and snapshots encode them one canonical way
// ([eval.Tag]), untyped, and Apply types an event read back from the log
// from the program ([Machine.TypeEvent]).
//
// Everything non-deterministic happens before an event exists: the
// [Engine] reads the clock, evaluates guards, arguments and durations
// through an [Evaluator], and calls task [Worker]s, and records their
// outcomes (times, chosen output arcs, values, results, errors) in the
// event it appends to the [EventLog] and then applies. Transitions are
// therefore exactly-once: one appended event each. Task calls are
// at-least-once: a call whose completion was not appended before a crash
// is invoked again after recovery with the same idempotency key
// ([store.Key] of the case, the transition and invocation number, and the
// attempt).
//
// Firing rules are those of compiler/sound: an AND join consumes every
// input, an XOR join the first marked one, a partial join fires when at
// least JoinN inputs are marked and consumes every marked one, and an OR
// join fires when some input is marked and no token, running call or
// child case upstream of an empty input can still reach it. A drain join
// (the end of a flow) fires when its input is marked and nothing in its
// region (the flow) is marked or running, and takes every token of its
// input, so that the threads of a flow end in one.
// Cancellation (region, task, case) happens before a transition
// produces. cancel task withdraws the task's calls in every frame (and
// those ready to start in its own) and lets each one's branch continue
// without its result; the statement
// cancel case abandons the whole case, compensates and ends it
// Cancelled. Frames record the milestones they hold, which evaluators
// read through [MilestoneReader]. When several transitions are enabled the engine fires a
// TCancel first (the lowering's cancel/idle pairs rely on it), and
// otherwise the lowest-numbered one, frame by frame, so runs are
// reproducible.
//
// Task, kernel and workflow transitions take their input tokens when they
// start and produce their outputs when the call completes. Failed calls
// are retried after their backoff, which is an armed deadline in the
// State (it survives a restart); a timeout bounds each attempt through
// the context given to the worker (real time, not the case clock). When a
// case fails (a fail transition, an exhausted retry, an evaluation
// error) every running call is abandoned and the undo calls of the tasks
// that completed run in reverse order (saga compensation).
//
// A multiple-instance or workflow transition produces every output when
// its children complete, without evaluating guards: the lowering puts a
// choice after such a call in a routing transition of its own. A
// multiple-instance transition runs one child frame per item, at most
// Limit at a time, and completes when all are done or Quorum of them
// are; the rest are then cancelled, unless the transition keeps them
// (Keep): they run on, the transition cannot fire again and its frame
// cannot return until they end (see multi.go). A signal its Label names
// starts one more instance while it is waiting for instances (buffered
// ones are taken when it starts).
//
// A learned route asks the [Policy] (default: the first candidate) and
// records the choice with the features it chose from. When the chosen
// call ends, its reward (the route's reward expression of the call's
// duration; without one, 1 for success and 0 for failure) is recorded in
// the event that ends it and, after that event is in the log, handed to
// the policy if it is a [Learner] (see reward.go).
//
// Every Config.SnapshotEvery events (default 256) the engine writes a
// snapshot of the case's State ([Machine.EncodeState]: versioned,
// checksummed, deterministic JSON, tied to the program by a fingerprint)
// to a log that is a [Snapshotter]; [Engine.Recover] then decodes the
// latest one and replays only the events after it. A snapshot larger
// than [BigSnapshot] defers the next one by one event per
// [SnapshotBytesPerEvent] of its bytes, so that a case with a large
// state (a long list, many running instances) writes O(1) snapshot bytes
// per event instead of its whole state every few events. A snapshot that does
// not decode fails recovery with [ErrBadSnapshot]; a missing one means a
// full replay. [StoreLog] keeps snapshots as "case-snapshot" records and
// indexes, per store, the byte position of each case's first record and
// latest snapshot, so recovery reads from there instead of from the start
// of the log (the first recovery after opening a store builds the index
// by reading every record once).
//
// Hooks are the event-condition-action rules of a workflow: the root
// net's ir.Hooks, and those of each sub-workflow frame (a TWorkflow
// call's child; see HookRef and Machine.scopeOf), evaluated against that
// frame's variables. A sub-workflow frame whose body completes waits,
// Ending, until its end hooks are resolved; its fail hooks do not run (a
// failure is the case's; knhk check warns). The checker allows no hook in
// a parallel for body. A hook
// fires on start when the case (or the sub-workflow call) starts; on
// complete T each time a call of task T, or of workflow T, completes
// successfully in a frame of the main path inside the declaring frame; on
// signal S each time S arrives, whether a wait consumes it,
// it is buffered or dropped (the hook consumes nothing); on end when the
// root net's end place is marked; on fail when the case fails, before
// its compensation (not when it is cancelled). Apply only queues a fired
// hook (State.HookQ); the scheduler resolves the queue before anything
// else, evaluating each hook's condition and its action's arguments
// against the declaring frame as the event left it (for complete T, after the
// result is assigned), into an [EvHook]. The action then runs beside the
// main path: a task call as an invocation (at-least-once, with its own
// idempotency key, retries and timeout), a workflow body as a top-level
// frame of its own. A hook action never fails the case: an exhausted
// call, a fail inside its frame, or an evaluation error is recorded in
// State.HookErrors and in the log. Hook actions' own calls and
// compensations trigger no hook, and completed hook calls push no
// compensation. When the main path ends while hooks are queued or their
// actions run, the main path is abandoned as usual but the case stays
// Running, with State.Closing saying what it becomes once the last one
// is done: Completed (end hooks), or Failing, and only then does its
// compensation start (fail hooks). Cancelling the case, from outside or
// by cancel case, withdraws every hook action.
//
// A send step raises a signal: in its own case within the step's event,
// as if it arrived from outside; for another case it queues mail in the
// sender's state, which the host delivers with Receive (once per mail id)
// and settles with Settle (see send.go).
//
// A case's cost per event does not grow with its size: frames and calls
// are kept in id order and timers in frame order, all found by binary
// search, the scheduler looks
// only at the frames an event may have given work (see watch.go), and a
// live run starts and withdraws only the calls that events added,
// retried or dropped, so a loop over n items, sequential or as n
// parallel instances, costs O(n) in time, log bytes and memory
// (runtime/durable's BenchmarkScale measures the slope).
//
// Calls run in one of two modes. Live, the default, every ready call
// runs in the background and each outcome is applied
// when it arrives, timers and backoffs fire while calls run, a call the
// case withdraws has its context cancelled, and Signal, Run and Cancel
// reach a case while its calls run (see live.go); a case about to fail
// first lets the calls in flight finish, so that their compensations
// are known. With Config.Rounds, the
// ready calls of a case run as a round and their outcomes are applied in
// invocation order once all have returned: with workers that answer at
// once, runs are reproducible, which the pattern and engine tests use.
// Either way only what is recorded in events decides the state, so
// recovery replays a live run exactly.
package engine
