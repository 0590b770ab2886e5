// Package accel will discover compute devices and dispatch data-parallel
// kernels to them: Vulkan devices (through vulkan-go, running the SPIR-V
// that codegen produces) with a CPU fallback that runs the same kernel in
// Go when no device is present.
//
// Nothing is implemented here yet.
package accel
