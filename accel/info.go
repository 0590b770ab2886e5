// This file implements the description of devices, shared by builds
// with and without cgo.

package accel

import "fmt"

// DeviceInfo describes a physical device.
type DeviceInfo struct {
	Index      int    // position in the loader's list: KNHK_DEVICE=vulkan:Index
	Name       string // e.g. "NVIDIA H100 80GB HBM3", "llvmpipe (LLVM 15.0.6, 256 bits)"
	Type       string // "discrete", "integrated", "virtual", "cpu" or "other"
	API        string // the Vulkan version the device supports, e.g. "1.3.230"
	Driver     uint32 // the driver version, vendor-encoded
	VendorID   uint32
	DeviceID   uint32
	CacheUUID  [16]byte // the driver's pipeline cache UUID
	MaxGroups  uint32   // maxComputeWorkGroupCount[0]
	MaxPush    uint32   // maxPushConstantsSize, bytes
	MaxBuffer  uint32   // maxStorageBufferRange, bytes
	LocalBytes uint64   // the largest device-local heap
	// TimestampPeriod is nanoseconds per timestamp tick, 0 where compute
	// queues cannot write timestamps.
	TimestampPeriod float32
	Compute         bool // has a compute queue
}

// Discrete reports whether the device is a discrete GPU, whose own
// memory is worth staging through.
func (d DeviceInfo) Discrete() bool { return d.Type == "discrete" }

// GPU reports whether the device is a GPU (discrete, integrated or
// virtual) rather than a CPU implementation of Vulkan.
func (d DeviceInfo) GPU() bool {
	return d.Type == "discrete" || d.Type == "integrated" || d.Type == "virtual"
}

func (d DeviceInfo) String() string {
	return fmt.Sprintf("vulkan:%d  %s  (%s, Vulkan %s)", d.Index, d.Name, d.Type, d.API)
}

// preferredOf returns the index of the device to use when none is named:
// the first discrete GPU with compute, else the first integrated or
// virtual GPU, else any device with compute; -1 when there is none.
func preferredOf(devices []DeviceInfo) int {
	for _, rank := range []func(DeviceInfo) bool{
		func(d DeviceInfo) bool { return d.Type == "discrete" },
		func(d DeviceInfo) bool { return d.Type == "integrated" || d.Type == "virtual" },
		func(DeviceInfo) bool { return true },
	} {
		for _, d := range devices {
			if d.Compute && rank(d) {
				return d.Index
			}
		}
	}
	return -1
}
