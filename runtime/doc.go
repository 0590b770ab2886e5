// Package runtime will be the KNHK engine: it runs compiled workflows as
// cases whose state is a marking plus variables, appends every transition
// to a durable event log and rebuilds state by replay after a crash, and
// drives timers, signals and task workers (exactly-once transitions,
// at-least-once task calls with idempotency keys).
//
// It will also produce signed, hash-chained execution receipts, host the
// learning hooks behind learned routes, and, in cluster mode, replicate
// the log with Raft, using the engine's own deterministic apply function
// as the state machine.
//
// Nothing is implemented here yet.
package runtime
