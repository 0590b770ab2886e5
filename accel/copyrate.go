//go:build cgo

// This file implements the device's own copy rate, the yardstick that
// kernel bandwidth is quoted against.

package accel

import (
	"context"
	"fmt"
	"time"

	vk "github.com/vulkan-go/vulkan"
)

// CopyTime copies bytes between two buffers in device memory
// (device-local on discrete GPUs) and returns the device time of the
// copy alone, from timestamps; an error where the device has none.
func (d *Device) CopyTime(ctx context.Context, bytes int) (time.Duration, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dev == nil {
		return 0, fmt.Errorf("accel: %w: the device is closed", ErrNoDevice)
	}
	ts := d.timestamps()
	if ts == nil {
		return 0, fmt.Errorf("accel: %s: %w: no timestamps on compute queues", d.Info.Name, ErrUnsupported)
	}
	src, err := d.newBuffer(bytes, storageUsage, !d.staging)
	if err != nil {
		return 0, err
	}
	defer d.freeBuffer(src)
	dst, err := d.newBuffer(bytes, storageUsage, !d.staging)
	if err != nil {
		return 0, err
	}
	defer d.freeBuffer(dst)
	err = d.submit(ctx, func(cmd vk.CommandBuffer) {
		vk.CmdResetQueryPool(cmd, ts.pool, 0, 2)
		vk.CmdWriteTimestamp(cmd, vk.PipelineStageTopOfPipeBit, ts.pool, 0)
		vk.CmdCopyBuffer(cmd, src.buf, dst.buf, 1, []vk.BufferCopy{{Size: vk.DeviceSize(bytes)}})
		vk.CmdWriteTimestamp(cmd, vk.PipelineStageBottomOfPipeBit, ts.pool, 1)
	})
	if err != nil {
		return 0, err
	}
	return ts.read(d), nil
}
