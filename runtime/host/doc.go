// Package host joins the deterministic engine (runtime/engine) to the
// value machine (runtime/eval).
//
// The engine and eval share one value representation, [eval.Value]: the
// engine carries it in its state, events and snapshots, and encodes it
// in one canonical form (eval's tagged encoding), so a function's
// arguments, the case variables it reads and its result pass between
// them as they are. [Evaluator] is the [engine.Evaluator] that runs a
// function on eval's register machine; [Compiled] runs the same
// function compiled to Go by codegen/golang, with identical values, so
// the interpreter and a compiled binary write the same log bytes.
//
// [Post] delivers the signals that cases send to other cases (the send
// statement) from the senders' outboxes into the targets' logs, exactly
// once, and records each outcome in the sender.
package host
