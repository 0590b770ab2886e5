// Package host joins the deterministic engine (runtime/engine) to the
// value machine (runtime/eval).
//
// The engine keeps case data as plain Go values that its event log can
// encode (nil, bool, int64, float64, string, []byte, time.Duration,
// time.Time, []any), so that it never depends on eval's representation;
// eval computes with typed [eval.Value]s. [ToEngine] and [FromEngine]
// convert between the two: the engine form drops the static type (a
// record is the list of its fields in the IR's order, an enum its member
// name, a map a two-element list of its keys and its values, an absent
// optional nil), and the IR type that every parameter, variable and
// result carries restores it on the way back.
//
// [Evaluator] is the [engine.Evaluator] over eval: it converts a
// function's arguments and the case variables it reads to eval values,
// runs the function and converts the result back.
//
// [Post] delivers the signals that cases send to other cases (the send
// statement) from the senders' outboxes into the targets' logs, exactly
// once, and records each outcome in the sender.
package host
