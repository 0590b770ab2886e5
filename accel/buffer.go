//go:build cgo

// This file implements device buffers: host-visible memory the CPU maps
// directly (CPU devices and integrated GPUs, where all memory is one),
// or device-local memory filled and read through host-visible staging
// buffers (discrete GPUs, whose own memory is many times faster for the
// kernel than reading host memory across the bus).

package accel

import (
	"fmt"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// buffer is a VkBuffer with its own memory.
type buffer struct {
	buf  vk.Buffer
	mem  vk.DeviceMemory
	size int
	ptr  unsafe.Pointer // mapped memory of a host-visible buffer
}

const (
	storageUsage = vk.BufferUsageStorageBufferBit | vk.BufferUsageTransferSrcBit | vk.BufferUsageTransferDstBit
	stagingUsage = vk.BufferUsageTransferSrcBit | vk.BufferUsageTransferDstBit
)

// memoryType returns the first memory type allowed by bits with all of
// flags, or -1.
func (d *Device) memoryType(bits uint32, flags vk.MemoryPropertyFlagBits) int {
	for i := uint32(0); i < d.mem.MemoryTypeCount; i++ {
		if bits&(1<<i) != 0 && d.mem.MemoryTypes[i].PropertyFlags&vk.MemoryPropertyFlags(flags) == vk.MemoryPropertyFlags(flags) {
			return int(i)
		}
	}
	return -1
}

// newBuffer allocates size bytes (at least 4): host-visible and mapped
// when host is set, else device-local.
func (d *Device) newBuffer(size int, usage vk.BufferUsageFlagBits, host bool) (*buffer, error) {
	if size < 4 {
		size = 4
	}
	if uint64(size) > uint64(d.Info.MaxBuffer) && usage&vk.BufferUsageStorageBufferBit != 0 {
		return nil, fmt.Errorf("vulkan: a buffer of %d bytes: %w (maxStorageBufferRange is %d)", size, ErrUnsupported, d.Info.MaxBuffer)
	}
	b := &buffer{size: size}
	var vb vk.Buffer
	if err := check(vk.CreateBuffer(d.dev, &vk.BufferCreateInfo{
		SType: vk.StructureTypeBufferCreateInfo, Size: vk.DeviceSize(size), Usage: vk.BufferUsageFlags(usage), SharingMode: vk.SharingModeExclusive,
	}, nil, &vb), "vkCreateBuffer"); err != nil {
		return nil, err
	}
	b.buf = vb
	var req vk.MemoryRequirements
	vk.GetBufferMemoryRequirements(d.dev, b.buf, &req)
	req.Deref()
	flags := vk.MemoryPropertyDeviceLocalBit
	if host {
		flags = vk.MemoryPropertyHostVisibleBit | vk.MemoryPropertyHostCoherentBit
	}
	mt := d.memoryType(req.MemoryTypeBits, flags)
	if mt < 0 {
		d.freeBuffer(b)
		return nil, fmt.Errorf("vulkan: %w: no memory type with flags %#x", ErrUnsupported, flags)
	}
	var mem vk.DeviceMemory
	if err := check(vk.AllocateMemory(d.dev, &vk.MemoryAllocateInfo{
		SType: vk.StructureTypeMemoryAllocateInfo, AllocationSize: req.Size, MemoryTypeIndex: uint32(mt),
	}, nil, &mem), "vkAllocateMemory"); err != nil {
		d.freeBuffer(b)
		return nil, d.note(err)
	}
	b.mem = mem
	if err := check(vk.BindBufferMemory(d.dev, b.buf, b.mem, 0), "vkBindBufferMemory"); err != nil {
		d.freeBuffer(b)
		return nil, d.note(err)
	}
	if host {
		var ptr unsafe.Pointer
		if err := check(vk.MapMemory(d.dev, b.mem, 0, vk.DeviceSize(size), 0, &ptr), "vkMapMemory"); err != nil {
			d.freeBuffer(b)
			return nil, d.note(err)
		}
		b.ptr = ptr
	}
	return b, nil
}

// bytes is the mapped memory of a host-visible buffer.
func (b *buffer) bytes() []byte { return unsafe.Slice((*byte)(b.ptr), b.size) }

func (d *Device) freeBuffer(b *buffer) {
	if b == nil {
		return
	}
	if b.ptr != nil {
		vk.UnmapMemory(d.dev, b.mem)
		b.ptr = nil
	}
	if b.buf != vk.NullBuffer {
		vk.DestroyBuffer(d.dev, b.buf, nil)
	}
	if b.mem != vk.NullDeviceMemory {
		vk.FreeMemory(d.dev, b.mem, nil)
	}
}

// barrier makes the writes of src stages visible to the accesses of dst.
func barrier(cmd vk.CommandBuffer, srcStage, dstStage vk.PipelineStageFlagBits, srcAccess, dstAccess vk.AccessFlagBits) {
	vk.CmdPipelineBarrier(cmd, vk.PipelineStageFlags(srcStage), vk.PipelineStageFlags(dstStage), 0, 1, []vk.MemoryBarrier{{
		SType: vk.StructureTypeMemoryBarrier, SrcAccessMask: vk.AccessFlags(srcAccess), DstAccessMask: vk.AccessFlags(dstAccess),
	}}, 0, nil, 0, nil)
}
