// Package golang is the Go back end: it translates a program's IR into a
// Go package whose functions compute, instruction by instruction, what
// runtime/eval's register machine computes, with the same results,
// errors and step charges, so that a binary built from it and the
// interpreter write identical event logs. Values whose type is known
// statically live in Go types (typed.go: scalars, records as structs,
// lists as slices), the rest in eval.Value; filter, any and all over a
// numeric field compare columns with runtime/vec (column.go); a filter
// whose result is only counted or mapped keeps its hits as a selection
// rather than a copy (sel.go).
//
// The generated package holds:
//
//   - program.go: the program's descriptor, embedded as the compiler's
//     encoding (compiler/ir's Encode), the table of compiled functions
//     and an engine.Evaluator over them (runtime/host's Compiled); the
//     nets themselves stay data, run by runtime/engine;
//   - types.go: the records and enums of the program as Go types;
//   - funcs.go: one Go function per [ir.Func] (fns, guards, call
//     arguments, durations, assigned values, lambdas), each commented with
//     the .knhk line it comes from.
//
// Kernels are compiled by the kernel generator of this package (files
// kernel*.go) into kernels.go; compiled functions call them through its
// KernelValues table.
//
// This package imports compiler/ir only (and jennifer); the code it
// writes imports runtime/eval, runtime/host and runtime/engine.
package golang
