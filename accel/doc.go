// Package accel runs data-parallel kernels on Vulkan devices, with the
// CPU as the fallback.
//
// [Open] loads the Vulkan loader at run time (libvulkan.so.1, then
// libvulkan.so, or KNHK_VULKAN_LOADER) through
// github.com/vulkan-go/vulkan and lists the physical devices;
// [Vulkan.OpenDevice] opens one. [Device.Run] runs a module compiled by
// codegen/spirv over Go slices: device-local buffers behind staging
// buffers on discrete GPUs, host-visible ones elsewhere, pipelines kept
// per module through a VkPipelineCache, dispatches split at the device's
// workgroup limit, one fence per submission. [Device.Reduce] sums,
// minimises, maximises or counts an array in passes through workgroup
// shared memory. Every Vulkan failure is an error wrapping one of
// [ErrNoLoader], [ErrNoDevice], [ErrOutOfMemory], [ErrDeviceLost] or
// [ErrUnsupported]; nothing panics.
//
// [Dispatcher] is the runtime's seam (an eval.KernelRunner): kernel
// calls of at least its threshold go to the device, everything else, and
// any call in which an element failed, to the CPU, which reports the
// interpreter's exact error. [FromEnv] builds one from KNHK_DEVICE
// (cpu, vulkan, vulkan:N) and KNHK_DEVICE_MIN. docs/gpu.md describes
// the modules, the precision of results and the benchmarks.
package accel
