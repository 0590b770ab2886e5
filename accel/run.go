// This file implements running a compiled module: buffers for the
// arguments, push constants, dispatches split at the device's largest
// workgroup count, and the results read back.

package accel

import (
	"context"
	"fmt"
	"time"

	vk "github.com/vulkan-go/vulkan"

	"github.com/knhk/knhk/codegen/spirv"
)

// Result is what one run of a module computed.
type Result struct {
	// Outputs holds each kernel's result, in the order of
	// Shader.Kernels: []float32, []int32, []uint32 or []bool.
	Outputs []any
	// Failed is the least element index at which some kernel failed
	// (an index out of range, a division by zero, a conversion out of
	// range), or -1. The device cannot say why; the caller re-runs the
	// kernel on the CPU for the exact error.
	Failed int
	// Dispatches is how many vkCmdDispatch calls the run took.
	Dispatches int
	// Kernel is the device time of the dispatches alone (timestamps),
	// or 0 where the device has none.
	Kernel time.Duration
}

// Run runs module sh over args: args[j] are the arguments of kernel
// sh.Kernels[j], one per parameter, Go slices for arrays ([]float32,
// []int32, []uint32, []bool) and float32, int32, uint32 or bool for
// scalars. Every kernel's result is as long as its first array argument,
// and all must be equally long.
func (d *Device) Run(ctx context.Context, sh *spirv.Shader, args [][]any) (*Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dev == nil {
		return nil, fmt.Errorf("accel: %w: the device is closed", ErrNoDevice)
	}
	if d.lost {
		return nil, fmt.Errorf("vulkan: %s: %w", d.Info.Name, ErrDeviceLost)
	}
	if !hostLittle {
		return nil, fmt.Errorf("accel: %w: a big-endian host", ErrUnsupported)
	}
	if len(args) != len(sh.Kernels) {
		return nil, fmt.Errorf("accel: %s takes arguments for %d kernels, not %d", sh.Name, len(sh.Kernels), len(args))
	}
	arg := func(s spirv.Slot) (any, error) {
		if s.Param >= len(args[s.Kernel]) {
			return nil, fmt.Errorf("accel: %s: kernel %d has no argument %d", sh.Name, s.Kernel, s.Param)
		}
		return args[s.Kernel][s.Param], nil
	}
	// The element count: every kernel's first array argument.
	n := -1
	seen := map[int]bool{}
	lens := map[[2]int]int{}
	for _, s := range sh.Buffers {
		if s.Role != spirv.RoleInput {
			continue
		}
		a, err := arg(s)
		if err != nil {
			return nil, err
		}
		l, err := arrayLen(a, s.Kind)
		if err != nil {
			return nil, err
		}
		lens[[2]int{s.Kernel, s.Param}] = l
		if !seen[s.Kernel] {
			seen[s.Kernel] = true
			if n >= 0 && l != n {
				return nil, fmt.Errorf("accel: %s: kernels over %d and %d elements in one dispatch", sh.Name, n, l)
			}
			n = l
		}
	}
	if n < 0 {
		return nil, fmt.Errorf("accel: %s has no array parameter", sh.Name)
	}
	if n > 1<<31-1 {
		return nil, fmt.Errorf("accel: %d elements do not fit an i32 index", n)
	}
	push := make([]uint32, len(sh.Push))
	for i, s := range sh.Push {
		switch s.Role {
		case spirv.RoleCount:
			push[i] = uint32(n)
		case spirv.RoleLength:
			push[i] = uint32(lens[[2]int{s.Kernel, s.Param}])
		case spirv.RoleScalar:
			a, err := arg(s)
			if err != nil {
				return nil, err
			}
			w, err := scalarWord(a, s.Kind)
			if err != nil {
				return nil, err
			}
			push[i] = w
		}
	}
	p, err := d.pipelineFor(sh.Binary, len(sh.Buffers), len(sh.Push), "")
	if err != nil {
		return nil, err
	}

	// Buffers: device buffers in binding order; with staging, a
	// host-visible twin of each.
	bufs := make([]*buffer, len(sh.Buffers))
	stage := make([]*buffer, len(sh.Buffers))
	defer func() {
		for i := range bufs {
			d.freeBuffer(bufs[i])
			d.freeBuffer(stage[i])
		}
	}()
	for i, s := range sh.Buffers {
		size := 4
		switch s.Role {
		case spirv.RoleInput:
			size = 4 * lens[[2]int{s.Kernel, s.Param}]
		case spirv.RoleOutput:
			size = 4 * n
		}
		if bufs[i], err = d.newBuffer(size, storageUsage, !d.staging); err != nil {
			return nil, err
		}
		host := bufs[i]
		if d.staging {
			if stage[i], err = d.newBuffer(size, stagingUsage, true); err != nil {
				return nil, err
			}
			host = stage[i]
		}
		switch s.Role {
		case spirv.RoleInput:
			a, _ := arg(s)
			putArray(host.bytes(), a)
		case spirv.RoleError:
			host.bytes()[0], host.bytes()[1], host.bytes()[2], host.bytes()[3] = 0xff, 0xff, 0xff, 0xff
		}
	}
	d.bind(p, bufs)

	res := &Result{Failed: -1}
	per := uint64(d.maxGroups) * spirv.LocalSize
	ts := d.timestamps()
	err = d.submit(ctx, func(cmd vk.CommandBuffer) {
		if d.staging {
			for i, s := range sh.Buffers {
				if s.Role != spirv.RoleOutput {
					vk.CmdCopyBuffer(cmd, stage[i].buf, bufs[i].buf, 1, []vk.BufferCopy{{Size: vk.DeviceSize(bufs[i].size)}})
				}
			}
			barrier(cmd, vk.PipelineStageTransferBit, vk.PipelineStageComputeShaderBit, vk.AccessTransferWriteBit, vk.AccessShaderReadBit|vk.AccessShaderWriteBit)
		}
		if ts != nil {
			vk.CmdResetQueryPool(cmd, ts.pool, 0, 2)
			vk.CmdWriteTimestamp(cmd, vk.PipelineStageTopOfPipeBit, ts.pool, 0)
		}
		vk.CmdBindPipeline(cmd, vk.PipelineBindPointCompute, p.pipe)
		vk.CmdBindDescriptorSets(cmd, vk.PipelineBindPointCompute, p.layout, 0, 1, []vk.DescriptorSet{p.set}, 0, nil)
		for base := uint64(0); base < uint64(n); base += per {
			push[0] = uint32(base)
			groups := (min(uint64(n)-base, per) + spirv.LocalSize - 1) / spirv.LocalSize
			vk.CmdPushConstants(cmd, p.layout, vk.ShaderStageFlags(vk.ShaderStageComputeBit), 0, p.pushSize, pushPtr(push))
			vk.CmdDispatch(cmd, uint32(groups), 1, 1)
			res.Dispatches++
		}
		if ts != nil {
			vk.CmdWriteTimestamp(cmd, vk.PipelineStageBottomOfPipeBit, ts.pool, 1)
		}
		if d.staging {
			barrier(cmd, vk.PipelineStageComputeShaderBit, vk.PipelineStageTransferBit, vk.AccessShaderWriteBit, vk.AccessTransferReadBit)
			for i, s := range sh.Buffers {
				if s.Role != spirv.RoleInput {
					vk.CmdCopyBuffer(cmd, bufs[i].buf, stage[i].buf, 1, []vk.BufferCopy{{Size: vk.DeviceSize(bufs[i].size)}})
				}
			}
			barrier(cmd, vk.PipelineStageTransferBit, vk.PipelineStageHostBit, vk.AccessTransferWriteBit, vk.AccessHostReadBit)
		} else {
			barrier(cmd, vk.PipelineStageComputeShaderBit, vk.PipelineStageHostBit, vk.AccessShaderWriteBit, vk.AccessHostReadBit)
		}
	})
	if err != nil {
		return nil, err
	}
	if ts != nil {
		res.Kernel = ts.read(d)
	}
	for i, s := range sh.Buffers {
		host := bufs[i]
		if d.staging {
			host = stage[i]
		}
		switch s.Role {
		case spirv.RoleOutput:
			res.Outputs = append(res.Outputs, getArray(host.bytes(), n, s.Kind))
		case spirv.RoleError:
			if w := getArray(host.bytes(), 1, s.Kind).([]uint32)[0]; w != spirv.NoError {
				res.Failed = int(w)
			}
		}
	}
	return res, nil
}
