// Package worker runs the leaf work of KNHK cases: it is the
// [engine.Worker] that calls a task through its binding.
//
//   - exec: the binding's argv is started as a process in its own process
//     group, with the task's named arguments as one JSON object on
//     standard input and the idempotency key in KNHK_IDEMPOTENCY_KEY.
//     Standard output is decoded into the declared result type (with
//     [eval.FromJSONNamed]; a mismatch fails the attempt naming the field
//     and the type). A non-zero exit fails the attempt with the trimmed
//     standard error; a timeout kills the whole process group, so a
//     grandchild does not outlive the attempt. On Linux the process gets
//     SIGKILL when knhk dies (the parent-death signal), and with
//     [Options.GroupDir] every running group is recorded so that
//     [ReapGroups] kills what a knhk killed outright left behind.
//   - http: a request with the named arguments as a JSON body and the
//     idempotency key in the Idempotency-Key header; a status of 400 or
//     more fails the attempt with the status and an excerpt of the body,
//     and the body is decoded into the result type.
//   - std: the tasks of the std modules (stdlib/std): time, log (to the
//     worker's log writer), kv (persisted in a JSON file in the data
//     directory), http, strings, json and crypto.
//   - extern: a Go function the embedding program registers in a
//     [Registry].
//   - queue: the attempt is submitted to [Options.Queue] (a
//     [queue.Broker] in knhk serve) with the named arguments as a JSON
//     object and the idempotency key as the task's ID; an external worker
//     polls it, and its result is decoded like an exec task's output. An
//     expired lease or a worker's failure fails the attempt.
//
// Kernels run on the CPU reference implementation ([eval.RunKernel]).
// Arguments and results are the engine's own eval values; nothing is
// converted at the boundary.
package worker
