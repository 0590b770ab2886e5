// Package eval computes values for the KNHK runtime: the value
// representation ([Value]), the JSON boundary ([FromJSON], [ToJSON]), an
// interpreter for IR functions in register form ([Machine], [Call],
// [Machine.CallFunc]; case variables and milestones come from an [Env]) with
// every builtin of the language, and the CPU reference implementation of
// kernels ([RunKernel]) that the other back ends are compared with.
//
// One file per concept:
//
//   - values.go: Value, equality, the total order, hashing, String
//   - json.go: JSON in and out, checked against IR types
//   - vm.go: the register machine; errors.go: runtime errors with spans
//   - arith.go: operators and conversions; builtins.go: the builtins
//   - kernel.go: kernels over arrays
//
// Semantics the lowering (package compiler) and this package agree on:
//
//   - Records are positional, fields in the IR's order (sorted by name).
//   - An optional holds either its element's value (some) or [None];
//     the language forbids T??, so no extra box is needed.
//   - Maps are kept sorted by key (the total order of [Compare]): keys(m)
//     and values(m) are in key order, JSON output lists keys in order, and
//     nothing depends on Go's map iteration order.
//   - int, duration and time arithmetic is checked: overflow is a runtime
//     error, as are integer division by zero, a list index out of range, a
//     missing map key and a conversion out of range. i32 and u32 wrap
//     around like the kernel back ends; float and f32 follow IEEE 754
//     (division by zero gives an infinity), f32 rounding after every
//     operation.
//   - Evaluation is deterministic: no clocks, no randomness, a step budget
//     bounds every call so that a bad program fails instead of hanging.
package eval
