// Package queue is the broker between the engine and external task
// workers: the tasks declared `task t(...) -> R queue "name"`.
//
// The engine's side calls [Broker.Submit] once per attempt and blocks
// until a worker finishes it, or [Broker.SubmitThen], which returns at
// once and hands the outcome to a callback (a server's engine, with
// thousands of calls in flight, parks no goroutine per call so). The
// worker's side (the API that h8's server
// exposes as PollTask, Heartbeat, CompleteTask and FailTask) calls
// [Broker.Poll] to long-poll a queue, [Broker.Heartbeat] to extend its
// lease and [Broker.Complete] or [Broker.Fail] to finish the task.
//
// A task's ID is the engine's idempotency key of the attempt, so a
// worker that applies effects once per ID applies them once per attempt.
// Each delivery carries a lease token; a call that names a task it no
// longer holds gets an error and changes nothing:
//
//   - [ErrUnknownTask]: the broker never had the task, or has forgotten it;
//   - [ErrLeaseLost]: the lease expired, the engine withdrew the attempt
//     (its timeout clause or the case was cancelled), or the token is not
//     the one this delivery carries;
//   - [ErrFinished]: the task was already completed or failed (a
//     duplicate completion).
//
// A lease that is not extended in time ends the attempt with
// [ErrLeaseExpired]: it counts as a failed attempt, and the engine retries
// per the task's retry clause with a new attempt and so a new ID. A
// worker that dies mid-task therefore loses nothing: its attempt fails
// when its lease runs out and the next attempt goes to another worker.
//
// A job submitted with [Job.Durable] (the engine's) makes Complete and
// Fail wait until the engine has written the outcome to its log and said
// so with [Broker.Recorded]: a completion acknowledged to a worker then
// survives a crash of the server. If no record comes in time, the worker
// gets [ErrNotRecorded]; were the outcome lost, the engine delivers the
// attempt again, with the same ID, after its restart.
//
// Tasks of one queue are delivered in submission order to whichever
// poller asks first, so many workers on one queue share the load. The
// broker holds no durable state: the engine's event log is the record,
// and after a restart the engine submits the attempts it still awaits.
package queue
