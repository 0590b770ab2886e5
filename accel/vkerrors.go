//go:build cgo

// This file implements turning Vulkan results into the package's errors.

package accel

import (
	"fmt"

	vk "github.com/vulkan-go/vulkan"
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
