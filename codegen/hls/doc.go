// Package hls is the FPGA back end: it writes Vitis-HLS-style C++ for the
// kernels of a program and for the control part of a workflow net.
//
// For each kernel, [Kernels] writes a header of stand-ins (knhk_hls.h:
// ap_int, ap_uint and hls::stream, compiled only when __SYNTHESIS__ is
// undefined, so that a synthesis tool uses its own), the kernel as an
// extern "C" top function over m_axi arrays and s_axilite scalars whose
// element loop is pipelined (II=1), and a testbench that runs the
// C-simulation on inputs read from a file. The body is the IR function in
// structured form: if/else from the branches, for loops from the loop
// headers, every loop bounded by constants (unrolled) so that the element
// loop pipelines. Arithmetic follows runtime/eval: i32 and u32 wrap, f32
// rounds at every operation, integer division by zero, indexes out of
// range and out-of-range conversions fail at the element the interpreter
// fails at, with the instruction's source position.
//
// [Lint] is the synthesizability check: recursion, dynamic allocation,
// loops without constant bounds and indirect calls are reported at the
// kernel's source, naming the target and the construct.
//
// [Net] writes the control part of a workflow net as a dispatch module:
// the marking is a bit vector (a bit per token each place can hold, in
// thermometer code), each transition's enabling a mask test, a
// priority encoder in the engine's order picks what fires, and the firing
// is a masked update; [Fits] says why a net has no such module.
//
// Pragmas are written as KNHK_HLS(...), which expands to _Pragma("HLS
// ...") under synthesis and to nothing in the C-simulation, so that the
// generated code compiles with g++ -Wall -Werror.
package hls
