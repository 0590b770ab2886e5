// This file implements the runner's errors: every Vulkan failure becomes
// one of a few sentinel errors that callers test with errors.Is, with the
// call that failed in the message.

package accel

import "errors"

// The failures a caller may act on.
var (
	// ErrNoLoader: no Vulkan loader library could be opened.
	ErrNoLoader = errors.New("no Vulkan loader")
	// ErrNoDevice: the loader works but offers no usable device, or
	// KNHK_DEVICE names one that does not exist.
	ErrNoDevice = errors.New("no Vulkan device")
	// ErrOutOfMemory: host or device memory ran out.
	ErrOutOfMemory = errors.New("Vulkan device out of memory")
	// ErrDeviceLost: the device was lost (a driver reset, a removed
	// GPU); the Device is unusable afterwards.
	ErrDeviceLost = errors.New("Vulkan device lost")
	// ErrUnsupported: the kernel or its arguments do not fit the device
	// (too many buffers, an array too large for one buffer).
	ErrUnsupported = errors.New("not supported by the Vulkan device")
)

func isLost(err error) bool { return errors.Is(err, ErrDeviceLost) }
