// Package spirv compiles kernels from the IR straight to SPIR-V binary
// modules for Vulkan compute, with no GLSL compiler in between.
//
// [Kernel] (one kernel) and [Compile] (several kernels over equally long
// arrays, one dispatch) return a [Shader]: a SPIR-V 1.3 GLCompute module
// and its interface, the storage buffers of descriptor set 0 and the push
// constant words, in the order a runner binds them. [Reduce] returns one
// pass of a sum, min, max or count through workgroup shared memory.
// Constructs SPIR-V cannot express are [Diagnostic]s at their source
// location that name SPIR-V and the construct.
//
// Results equal runtime/eval's: integer arithmetic, comparisons,
// conversions, abs, min and max exactly, including Go's NaN and signed
// zero rules and its failures (reported through an error word so that
// the runner can re-run the kernel on the CPU for the exact error);
// exp within 2 ULP by an expansion of its own (exp.go); log, sqrt and
// division within Vulkan's precision rules. The
// opcode and enum tables are generated from the Khronos grammar
// (go generate, see generate.go). docs/gpu.md has the details.
package spirv
