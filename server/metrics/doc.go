// Package metrics is the observability of knhk serve: the Prometheus
// metrics at /metrics, the probes /healthz and /readyz, and the
// structured logger (log/slog).
//
// It sits above the engine and consumes what the lower packages already
// expose, through small hooks at the consumer, so that none of them
// imports it: committed events ([Metrics.Event], called by the server's
// event log after an append is durable), group commits of the store
// ([Metrics.Commit], the store's Options.OnCommit), task attempts (the
// engine.Worker that [Metrics.Worker] wraps), and, read at scrape time,
// the cases a [CaseCounter] holds and the queues a [QueueStatter] holds.
// Collectors live on the Metrics' own prometheus.Registry, never the
// global one, so two servers in one process (tests) do not share
// counters.
//
// # Metrics
//
//	knhk_cases{workflow,status}                   gauge: cases by workflow and status (read at scrape time)
//	knhk_events_total{kind}                       counter: events committed, by kind (start, fire, done, ...)
//	knhk_transitions_total                        counter: transitions fired (fire and timer events); rate() is transitions/s
//	knhk_task_duration_seconds{task,queue,outcome} histogram: one attempt of a task or kernel call, from the
//	                                              engine's invocation to its result; queue is "" unless the task
//	                                              runs on an external queue (then the time includes the wait for
//	                                              a worker); outcome is ok, error or cancelled
//	knhk_queue_pending{queue}                     gauge: tasks waiting for a worker (the queue's depth)
//	knhk_queue_leased{queue}                      gauge: tasks a worker holds
//	knhk_queue_pollers{queue}                     gauge: workers blocked in a poll
//	knhk_queue_tasks_total{queue,result}          counter: attempts settled: completed, failed, expired, withdrawn
//	knhk_queue_lease_expiries_total{queue}        counter: leases that ran out (each fails its attempt)
//	knhk_store_fsync_seconds                      histogram: the fsync of one group commit
//	knhk_store_commit_records                     histogram: records per group commit (the batch size)
//	knhk_store_commit_bytes_total                 counter: bytes written by group commits
//
// plus the Go runtime's and the process's collectors (go_*, process_*).
//
// # Health
//
// /healthz answers 200 while the process serves HTTP at all. /readyz
// answers 200 only between the end of recovery (the data directory is
// open, every live case rebuilt, the API mounted) and the start of a
// drain; before and after it answers 503 with the reason, so a load
// balancer sends no calls to a server that would refuse them.
package metrics
