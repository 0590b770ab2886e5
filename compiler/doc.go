// Package compiler will lower the typed syntax tree that lang/check
// produces to the IR, the typed workflow net that is the contract between
// the front end and every back end (the interpreter in runtime and the
// generators in codegen).
//
// It will own the analyses that make a workflow compile or not: soundness
// (a workflow that can deadlock or leave tokens behind is rejected, with
// the path that gets stuck) and determinism. The IR itself, with its
// printer, verifier and stable binary encoding (the signed descriptor),
// will live in compiler/ir.
//
// Nothing is implemented here yet.
package compiler
