// Package durable holds the end-to-end durability checks of the KNHK
// runtime: a crash test that SIGKILLs a real workload (compiled from
// source, run by the engine over the durable store with extern tasks) at
// random points and checks that every case still completes with exactly
// the expected transitions and results, and the benchmarks of durable
// throughput and start-to-completion latency.
//
// It has no API: everything lives in its tests, so that the engine, the
// store and the worker are exercised only through their public
// interfaces, as an embedding program would use them.
//
//	go test -race ./runtime/durable                        # the crash test
//	go test ./runtime/durable -run TestCrashWorkload -crash.seed=N  # replay a schedule
//	go test ./runtime/durable -run '^$' -bench .           # the benchmarks
package durable
