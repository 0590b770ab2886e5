//go:build cgo

// This file implements a kernel and a reduction of its result in one
// submission, so that the result never leaves the device: scoring a batch
// and counting or summing the scores costs one upload and a 4-byte read.

package accel

import (
	"context"
	"fmt"

	vk "github.com/vulkan-go/vulkan"

	"github.com/knhk/knhk/codegen/spirv"
)

// RunReduce runs the one kernel of sh over args (as Run does) and
// reduces its result on the device with op: sum, min or max of an f32,
// i32 or u32 result, count of a bool one. Result.Reduced holds the value
// and Result.Outputs is empty. When an element failed, Result.Failed says
// where and Reduced is nil: the caller re-runs the kernel on the CPU. An
// empty min or max is an error; an empty sum or count is 0.
func (d *Device) RunReduce(ctx context.Context, sh *spirv.Shader, args [][]any, op spirv.ReduceOp) (*Result, error) {
	out := -1
	for i, s := range sh.Buffers {
		if s.Role == spirv.RoleOutput {
			if out >= 0 {
				return nil, fmt.Errorf("accel: %s has several results; RunReduce reduces one", sh.Name)
			}
			out = i
		}
	}
	if out < 0 {
		return nil, fmt.Errorf("accel: %s has no result", sh.Name)
	}
	kind := sh.Buffers[out].Kind
	d.mu.Lock()
	defer d.mu.Unlock()
	st, err := d.prepare(sh, args, true)
	if err != nil {
		return nil, err
	}
	defer st.free(d)
	res := &Result{Failed: -1}
	if st.n == 0 {
		if op == spirv.ReduceMin || op == spirv.ReduceMax {
			return nil, fmt.Errorf("accel: %s of no elements", op)
		}
		res.Reduced = element(getArray(make([]byte, 4), 1, reduceKind(op, kind)))
		return res, nil
	}
	r, err := d.newReducer(op, kind, st.n, st.bufs[out])
	if err != nil {
		return nil, err
	}
	defer r.free(d)
	errAt := len(sh.Buffers) - 1 // the error word comes last
	ts := d.timestamps()
	err = d.submit(ctx, func(cmd vk.CommandBuffer) {
		st.record(d, cmd, ts, res)
		if d.staging {
			barrier(cmd, vk.PipelineStageComputeShaderBit, vk.PipelineStageTransferBit, vk.AccessShaderWriteBit, vk.AccessTransferReadBit)
			vk.CmdCopyBuffer(cmd, st.bufs[errAt].buf, st.stage[errAt].buf, 1, []vk.BufferCopy{{Size: 4}})
		}
		r.record(d, cmd)
	})
	if err != nil {
		return nil, err
	}
	if ts != nil {
		res.Kernel = ts.read(d)
	}
	if res.Failed = failedAt(st.host(errAt).bytes()); res.Failed < 0 {
		res.Reduced = r.value()
	}
	return res, nil
}
