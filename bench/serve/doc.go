// Package serve measures knhk serve's API: cases started and awaited
// through the Connect client by 1, 64 and 1,000 concurrent callers, with
// start-to-result throughput and p50/p99 latency, against the same
// workload called on the server.Service in process (no HTTP), measured
// in the same run.
//
//	go test -run NONE -bench Serve ./bench/serve
package serve
