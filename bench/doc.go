// Package bench measures the KNHK front end (parse and check) against Go's
// (go/parser and go/types) on generated programs of the same line count.
//
// The two generators write the same program twice: KNHK produces record and
// enum types, fns, tasks bound to subprocesses and HTTP endpoints, and
// workflows using let, var, guard, if, choose, parallel, for, select and
// return; Go produces the equivalent structs, constants, funcs, goroutines,
// switch and select statements. Both are formatted one statement per line,
// the way a person writes them, so lines per second compares like with like.
//
// Run the benchmark with
//
//	go test -run NONE -bench FrontEnd ./bench
//
// or, for medians, the ratio and peak memory in one report,
//
//	go run ./bench/cmd/frontend
package bench
