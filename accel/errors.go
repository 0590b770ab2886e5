// This file implements the runner's errors: every Vulkan failure becomes
// one of a few sentinel errors that callers test with errors.Is, with the
// call that failed in the message.

package accel

import (
	"errors"
	"fmt"

	vk "github.com/vulkan-go/vulkan"
)

// The failures a caller may act on.
var (
	// ErrNoLoader: no Vulkan loader library could be opened.
	ErrNoLoader = errors.New("no Vulkan loader (install libvulkan1)")
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

// check turns a Vulkan result into nil or an error naming the call.
func check(r vk.Result, call string) error {
	if r == vk.Success {
		return nil
	}
	var sentinel error
	switch r {
	case vk.ErrorOutOfHostMemory, vk.ErrorOutOfDeviceMemory, vk.ErrorOutOfPoolMemory, vk.ErrorFragmentedPool:
		sentinel = ErrOutOfMemory
	case vk.ErrorDeviceLost:
		sentinel = ErrDeviceLost
	case vk.ErrorIncompatibleDriver, vk.ErrorInitializationFailed:
		sentinel = ErrNoDevice
	default:
		return fmt.Errorf("vulkan: %s: %w", call, vk.Error(r))
	}
	return fmt.Errorf("vulkan: %s: %w: %v", call, sentinel, vk.Error(r))
}

func isLost(err error) bool { return errors.Is(err, ErrDeviceLost) }
