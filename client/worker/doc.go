// Package worker is the Go library for external task workers: programs
// that execute the tasks a KNHK program declares with a queue binding,
//
//	task charge(amount: float) -> string queue "billing" retry 3
//
// A [Worker] long-polls one queue through a [Conn] (the knhk serve API,
// or [Local] over a queue.Broker in the same process), runs a [Handler]
// for each task, heartbeats while the handler runs so that the lease
// does not run out, and completes the task with the handler's result or
// fails it with the handler's error.
//
// Every delivery carries the attempt's idempotency key as [Task.ID]: a
// handler with effects applies them once per ID. A handler whose lease is
// lost (a heartbeat was refused, or the lease ran out while the server
// was unreachable) sees its context cancelled with [ErrLeaseLost] as the
// cause: the engine has already counted the attempt as failed and will
// retry it per the task's clauses, so the handler should stop.
//
// [Worker.Run] returns when its context ends, after the tasks in flight
// finish (graceful shutdown); [Options.DrainTimeout] bounds that wait,
// after which the remaining tasks are failed so the engine retries them
// at once rather than when their leases expire.
//
// docs/workers.md describes the protocol, which workers in any language
// can speak (examples/workers has one in Python).
package worker
