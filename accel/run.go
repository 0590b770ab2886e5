//go:build cgo

// This file implements running a compiled module: buffers for the
// arguments, push constants, dispatches split at the device's largest
// workgroup count, and the results read back.

package accel

import (
	"context"
	"encoding/binary"
	"fmt"

	vk "github.com/vulkan-go/vulkan"

	"github.com/knhk/knhk/codegen/spirv"
)

// Run runs module sh over args: args[j] are the arguments of kernel
// sh.Kernels[j], one per parameter, Go slices for arrays ([]float32,
// []int32, []uint32, []bool) and float32, int32, uint32 or bool for
// scalars. Every kernel's result is as long as its first array argument,
// and all must be equally long.
func (d *Device) Run(ctx context.Context, sh *spirv.Shader, args [][]any) (*Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st, err := d.prepare(sh, args, false)
	if err != nil {
		return nil, err
	}
	defer st.free(d)
	res := &Result{Failed: -1}
	ts := d.timestamps()
	err = d.submit(ctx, func(cmd vk.CommandBuffer) {
		st.record(d, cmd, ts, res)
		if d.staging {
			barrier(cmd, vk.PipelineStageComputeShaderBit, vk.PipelineStageTransferBit, vk.AccessShaderWriteBit, vk.AccessTransferReadBit)
			for i, s := range sh.Buffers {
				if s.Role != spirv.RoleInput {
					vk.CmdCopyBuffer(cmd, st.bufs[i].buf, st.stage[i].buf, 1, []vk.BufferCopy{{Size: vk.DeviceSize(st.bufs[i].size)}})
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
		host := st.host(i)
		switch s.Role {
		case spirv.RoleOutput:
			res.Outputs = append(res.Outputs, getArray(host.bytes(), st.n, s.Kind))
		case spirv.RoleError:
			res.Failed = failedAt(host.bytes())
		}
	}
	return res, nil
}

// failedAt reads the error word.
func failedAt(word []byte) int {
	v := binary.LittleEndian.Uint32(word)
	if v == spirv.NoError {
		return -1
	}
	return int(v)
}

// run is one module's buffers, push constants and pipeline, ready to
// record.
type run struct {
	sh          *spirv.Shader
	n           int
	push        []uint32
	p           *pipeline
	bufs, stage []*buffer // device buffers in binding order; staging twins on discrete GPUs
}

// prepare checks args against sh, creates the buffers (with staging
// when the device stages) and fills the inputs and the error word. With
// deviceOutputs, results get no staging twin: they stay on the device.
// The caller holds d.mu and frees the run.
func (d *Device) prepare(sh *spirv.Shader, args [][]any, deviceOutputs bool) (*run, error) {
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
	st := &run{sh: sh, n: n, push: make([]uint32, len(sh.Push))}
	for i, s := range sh.Push {
		switch s.Role {
		case spirv.RoleCount:
			st.push[i] = uint32(n)
		case spirv.RoleLength:
			st.push[i] = uint32(lens[[2]int{s.Kernel, s.Param}])
		case spirv.RoleScalar:
			a, err := arg(s)
			if err != nil {
				return nil, err
			}
			w, err := scalarWord(a, s.Kind)
			if err != nil {
				return nil, err
			}
			st.push[i] = w
		}
	}
	var err error
	if st.p, err = d.pipelineFor(sh.Binary, len(sh.Buffers), len(sh.Push), ""); err != nil {
		return nil, err
	}
	st.bufs = make([]*buffer, len(sh.Buffers))
	st.stage = make([]*buffer, len(sh.Buffers))
	for i, s := range sh.Buffers {
		size := 4
		switch s.Role {
		case spirv.RoleInput:
			size = 4 * lens[[2]int{s.Kernel, s.Param}]
		case spirv.RoleOutput:
			size = 4 * n
		}
		if st.bufs[i], err = d.newBuffer(size, storageUsage, !d.staging); err != nil {
			st.free(d)
			return nil, err
		}
		if d.staging && !(deviceOutputs && s.Role == spirv.RoleOutput) {
			if st.stage[i], err = d.newBuffer(size, stagingUsage, true); err != nil {
				st.free(d)
				return nil, err
			}
		}
		switch s.Role {
		case spirv.RoleInput:
			a, _ := arg(s)
			putArray(st.host(i).bytes(), a)
		case spirv.RoleError:
			copy(st.host(i).bytes(), []byte{0xff, 0xff, 0xff, 0xff})
		}
	}
	d.bind(st.p, st.bufs)
	return st, nil
}

// host is the host-visible buffer of binding i: its staging twin or
// itself.
func (st *run) host(i int) *buffer {
	if st.stage[i] != nil {
		return st.stage[i]
	}
	return st.bufs[i]
}

// record records the uploads (with staging), the kernel's dispatches
// between timestamps, and nothing after them.
func (st *run) record(d *Device, cmd vk.CommandBuffer, ts *timestamps, res *Result) {
	if d.staging {
		for i, s := range st.sh.Buffers {
			if s.Role != spirv.RoleOutput {
				vk.CmdCopyBuffer(cmd, st.stage[i].buf, st.bufs[i].buf, 1, []vk.BufferCopy{{Size: vk.DeviceSize(st.bufs[i].size)}})
			}
		}
		barrier(cmd, vk.PipelineStageTransferBit, vk.PipelineStageComputeShaderBit, vk.AccessTransferWriteBit, vk.AccessShaderReadBit|vk.AccessShaderWriteBit)
	}
	if ts != nil {
		vk.CmdResetQueryPool(cmd, ts.pool, 0, 2)
		vk.CmdWriteTimestamp(cmd, vk.PipelineStageTopOfPipeBit, ts.pool, 0)
	}
	vk.CmdBindPipeline(cmd, vk.PipelineBindPointCompute, st.p.pipe)
	vk.CmdBindDescriptorSets(cmd, vk.PipelineBindPointCompute, st.p.layout, 0, 1, []vk.DescriptorSet{st.p.set}, 0, nil)
	per := uint64(d.maxGroups) * spirv.LocalSize
	for base := uint64(0); base < uint64(st.n); base += per {
		st.push[0] = uint32(base)
		groups := (min(uint64(st.n)-base, per) + spirv.LocalSize - 1) / spirv.LocalSize
		vk.CmdPushConstants(cmd, st.p.layout, vk.ShaderStageFlags(vk.ShaderStageComputeBit), 0, st.p.pushSize, pushPtr(st.push))
		vk.CmdDispatch(cmd, uint32(groups), 1, 1)
		res.Dispatches++
	}
	if ts != nil {
		vk.CmdWriteTimestamp(cmd, vk.PipelineStageBottomOfPipeBit, ts.pool, 1)
	}
}

func (st *run) free(d *Device) {
	for i := range st.bufs {
		d.freeBuffer(st.bufs[i])
		d.freeBuffer(st.stage[i])
	}
}
