//go:build cgo

// This file implements an opened device: its queue, command buffer,
// fence and pipeline cache. One Device runs one submission at a time.

package accel

import (
	"context"
	"fmt"
	"sync"
	"time"

	vk "github.com/vulkan-go/vulkan"
)

// Device is an opened Vulkan device ready to run kernels. Its methods
// are safe for concurrent use; submissions are serialised.
type Device struct {
	Info DeviceInfo

	mu        sync.Mutex
	phys      vk.PhysicalDevice
	dev       vk.Device
	queue     vk.Queue
	family    uint32
	pool      vk.CommandPool
	cmd       vk.CommandBuffer
	fence     vk.Fence
	cache     vk.PipelineCache
	mem       vk.PhysicalDeviceMemoryProperties
	pipelines map[string]*pipeline // by module hash
	lost      bool
	// maxGroups is the largest dispatch along x; tests lower it to
	// exercise split dispatches.
	maxGroups uint32
	// staging says whether buffers live in device-local memory and move
	// through host-visible staging buffers (discrete GPUs).
	staging bool
	ts      *timestamps
	noTS    bool
	// cachePath is where the pipeline cache is kept between processes
	// ("" for nowhere); newPipelines says whether it has grown.
	cachePath    string
	newPipelines bool
}

// OpenDevice opens device i of v.
func (v *Vulkan) OpenDevice(i int) (*Device, error) {
	if i < 0 || i >= len(v.phys) {
		return nil, fmt.Errorf("%w: vulkan:%d (the loader lists %d)", ErrNoDevice, i, len(v.phys))
	}
	info := v.Devices[i]
	fam := computeFamily(v.phys[i])
	if fam < 0 {
		return nil, fmt.Errorf("%w: vulkan:%d (%s) has no compute queue", ErrNoDevice, i, info.Name)
	}
	d := &Device{Info: info, phys: v.phys[i], family: uint32(fam), pipelines: map[string]*pipeline{}, maxGroups: info.MaxGroups, staging: info.Discrete()}
	if d.maxGroups == 0 {
		d.maxGroups = 65535 // the least Vulkan guarantees; a driver reporting 0 would stall the split
	}
	prio := []float32{1}
	qinfo := vk.DeviceQueueCreateInfo{SType: vk.StructureTypeDeviceQueueCreateInfo, QueueFamilyIndex: d.family, QueueCount: 1, PQueuePriorities: prio}
	pin := pins(prio)
	var dev vk.Device
	r := vk.CreateDevice(d.phys, &vk.DeviceCreateInfo{
		SType: vk.StructureTypeDeviceCreateInfo, QueueCreateInfoCount: 1, PQueueCreateInfos: []vk.DeviceQueueCreateInfo{qinfo},
	}, nil, &dev)
	pin.Unpin()
	d.dev = dev
	if err := check(r, "vkCreateDevice"); err != nil {
		return nil, err
	}
	var queue vk.Queue
	vk.GetDeviceQueue(d.dev, d.family, 0, &queue)
	d.queue = queue
	var mem vk.PhysicalDeviceMemoryProperties
	vk.GetPhysicalDeviceMemoryProperties(d.phys, &mem)
	mem.Deref()
	d.mem = mem
	for t := uint32(0); t < d.mem.MemoryTypeCount; t++ {
		d.mem.MemoryTypes[t].Deref()
	}
	var pool vk.CommandPool
	err := check(vk.CreateCommandPool(d.dev, &vk.CommandPoolCreateInfo{
		SType: vk.StructureTypeCommandPoolCreateInfo, Flags: vk.CommandPoolCreateFlags(vk.CommandPoolCreateResetCommandBufferBit), QueueFamilyIndex: d.family,
	}, nil, &pool), "vkCreateCommandPool")
	d.pool = pool
	if err == nil {
		cmds := make([]vk.CommandBuffer, 1)
		err = check(vk.AllocateCommandBuffers(d.dev, &vk.CommandBufferAllocateInfo{
			SType: vk.StructureTypeCommandBufferAllocateInfo, CommandPool: d.pool, Level: vk.CommandBufferLevelPrimary, CommandBufferCount: 1,
		}, cmds), "vkAllocateCommandBuffers")
		d.cmd = cmds[0]
	}
	if err == nil {
		var fence vk.Fence
		err = check(vk.CreateFence(d.dev, &vk.FenceCreateInfo{SType: vk.StructureTypeFenceCreateInfo}, nil, &fence), "vkCreateFence")
		d.fence = fence
	}
	if err == nil {
		err = d.createCache()
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Close waits for the device to finish and frees everything it holds.
func (d *Device) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dev == nil {
		return
	}
	vk.DeviceWaitIdle(d.dev)
	if d.cache != vk.NullPipelineCache {
		d.saveCache()
	}
	for _, p := range d.pipelines {
		p.destroy(d.dev)
	}
	if d.ts != nil {
		d.ts.destroy(d.dev)
	}
	d.pipelines = nil
	if d.cache != vk.NullPipelineCache {
		vk.DestroyPipelineCache(d.dev, d.cache, nil)
	}
	if d.fence != vk.NullFence {
		vk.DestroyFence(d.dev, d.fence, nil)
	}
	if d.pool != vk.NullCommandPool {
		vk.DestroyCommandPool(d.dev, d.pool, nil)
	}
	vk.DestroyDevice(d.dev, nil)
	d.dev = nil
}

// submit records commands with rec, submits them and waits on the fence,
// polling ctx. A context already done submits nothing; one cancelled
// while the device works still waits for it (the buffers may not be
// freed while it runs) and returns ctx's error.
func (d *Device) submit(ctx context.Context, rec func(cmd vk.CommandBuffer)) error {
	if d.dev == nil {
		return fmt.Errorf("%w: the device is closed", ErrNoDevice)
	}
	if d.lost {
		return fmt.Errorf("vulkan: %s: %w", d.Info.Name, ErrDeviceLost)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := check(vk.ResetCommandBuffer(d.cmd, 0), "vkResetCommandBuffer"); err != nil {
		return d.note(err)
	}
	if err := check(vk.BeginCommandBuffer(d.cmd, &vk.CommandBufferBeginInfo{
		SType: vk.StructureTypeCommandBufferBeginInfo, Flags: vk.CommandBufferUsageFlags(vk.CommandBufferUsageOneTimeSubmitBit),
	}), "vkBeginCommandBuffer"); err != nil {
		return d.note(err)
	}
	rec(d.cmd)
	if err := check(vk.EndCommandBuffer(d.cmd), "vkEndCommandBuffer"); err != nil {
		return d.note(err)
	}
	if err := check(vk.ResetFences(d.dev, 1, []vk.Fence{d.fence}), "vkResetFences"); err != nil {
		return d.note(err)
	}
	cmds := []vk.CommandBuffer{d.cmd}
	pin := pins(cmds)
	r := vk.QueueSubmit(d.queue, 1, []vk.SubmitInfo{{
		SType: vk.StructureTypeSubmitInfo, CommandBufferCount: 1, PCommandBuffers: cmds,
	}}, d.fence)
	pin.Unpin()
	if err := check(r, "vkQueueSubmit"); err != nil {
		return d.note(err)
	}
	var ctxErr error
	for {
		r := vk.WaitForFences(d.dev, 1, []vk.Fence{d.fence}, vk.True, uint64(50*time.Millisecond))
		if r == vk.Success {
			return ctxErr
		}
		if r != vk.Timeout {
			return d.note(check(r, "vkWaitForFences"))
		}
		if ctxErr == nil {
			ctxErr = ctx.Err()
		}
	}
}

// note marks the device lost when err says so, and returns err.
func (d *Device) note(err error) error {
	if err != nil && isLost(err) {
		d.lost = true
	}
	return err
}
