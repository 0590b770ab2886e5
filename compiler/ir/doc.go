// Package ir defines the intermediate representation of KNHK programs: a
// typed workflow net per workflow, with expressions and kernels in a small
// typed register form.
//
// The IR is the contract between the front end (lang, lowered by package
// compiler) and every back end: the interpreter in runtime and the
// generators in codegen. It is designed after golang.org/x/tools/go/ssa,
// one concept per file:
//
//   - types.go: the type table ([TypeID], [Type])
//   - func.go: expression functions in register form ([Func], [Block], [Instr])
//   - net.go: workflow nets ([Net], [Place], [Transition], [Arc], [Region])
//   - program.go: a whole compiled package ([Program], [Task], [Kernel])
//   - builder.go: helpers to build programs concisely
//   - print.go: the deterministic text dump printed by `knhk ir`
//   - verify.go, verify_net.go, dom.go: the invariant checker, with SSA
//     dominance
//   - encode.go, decode.go: the stable binary encoding and its content
//     hash, which names a version of a program (the descriptor)
//
// Everything refers to everything else by index (types, functions, nets,
// places, transitions, registers), never by pointer, so that the encoding
// is a plain walk and a decoded program is identical to the one encoded.
// Every instruction, transition, arc and place carries a [Loc]: a file
// index into [Program.Files] and a byte span in that file. The zero Loc is
// a real (empty) span at the start of file 0; synthesised elements use
// [NoLoc].
//
// Control routing is not a transition kind but the Join and Split of any
// transition: an AND split is a transition with Split [SplitAnd] and
// several outputs, an XOR split (choose, if, guard) one with [SplitXor]
// and guarded output arcs, a synchronising merge one with [JoinOr], a
// discriminator or partial join one with [JoinPartial] and, when it
// cancels the other branches, a cancellation region.
package ir
