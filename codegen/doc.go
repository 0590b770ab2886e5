// Package codegen holds the back ends that translate the IR built by
// the compiler package: codegen/golang (workflows to a standalone Go
// program, generated with jennifer), codegen/spirv (data-parallel kernels
// to SPIR-V for Vulkan) and codegen/hls (kernels to HLS C++ with a
// testbench for FPGA C-simulation).
//
// Every back end must agree with the interpreter in runtime on every
// example; tests compare them (codegen/golang's differential test runs
// every example and pattern program both ways).
package codegen
