// Package patterns runs the workflow control-flow patterns of
// workflowpatterns.com (WCP 1-43) end to end: each program in
// testdata/patterns is checked, lowered and run on the engine with the
// real evaluator (runtime/host) and the real worker (runtime/worker) with
// extern tasks, and the trace of every scenario is compared with the
// traces its .trace file allows. See testdata/patterns/README.md for the
// file format and docs/patterns.md for the pattern-by-pattern coverage.
//
// The package has no API: it exists for its tests.
package patterns
