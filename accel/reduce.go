//go:build cgo

// This file implements reductions on the device: sum, min, max and count
// of an array in passes of spirv.Reduce modules, all in one submission.

package accel

import (
	"context"
	"fmt"

	vk "github.com/vulkan-go/vulkan"

	"github.com/knhk/knhk/codegen/spirv"
	"github.com/knhk/knhk/compiler/ir"
)

// Reduce computes op over data ([]float32, []int32, []uint32, or []bool
// for a count) on the device. The result is a float32, int32 or uint32
// (count: uint32). Float sums add in another order than a left fold and
// differ from it within vec.SumF32Bound; min and max follow math.Min and
// math.Max; integer sums wrap. An empty sum or count is 0; an empty min
// or max is an error.
func (d *Device) Reduce(ctx context.Context, op spirv.ReduceOp, data any) (any, error) {
	var k ir.Kind
	var n int
	switch s := data.(type) {
	case []float32:
		k, n = ir.KindF32, len(s)
	case []int32:
		k, n = ir.KindI32, len(s)
	case []uint32:
		k, n = ir.KindU32, len(s)
	case []bool:
		k, n = ir.KindBool, len(s)
	default:
		return nil, fmt.Errorf("accel: cannot reduce a %T", data)
	}
	if n == 0 {
		if op == spirv.ReduceMin || op == spirv.ReduceMax {
			return nil, fmt.Errorf("accel: %s of no elements", op)
		}
		return element(getArray(make([]byte, 4), 1, reduceKind(op, k))), nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dev == nil {
		return nil, fmt.Errorf("accel: %w: the device is closed", ErrNoDevice)
	}
	if d.lost {
		return nil, fmt.Errorf("vulkan: %s: %w", d.Info.Name, ErrDeviceLost)
	}
	in, err := d.newBuffer(4*n, storageUsage, !d.staging)
	if err != nil {
		return nil, err
	}
	defer d.freeBuffer(in)
	inHost := in
	if d.staging {
		if inHost, err = d.newBuffer(4*n, stagingUsage, true); err != nil {
			return nil, err
		}
		defer d.freeBuffer(inHost)
	}
	putArray(inHost.bytes(), data)
	r, err := d.newReducer(op, k, n, in)
	if err != nil {
		return nil, err
	}
	defer r.free(d)
	err = d.submit(ctx, func(cmd vk.CommandBuffer) {
		if d.staging {
			vk.CmdCopyBuffer(cmd, inHost.buf, in.buf, 1, []vk.BufferCopy{{Size: vk.DeviceSize(4 * n)}})
			barrier(cmd, vk.PipelineStageTransferBit, vk.PipelineStageComputeShaderBit, vk.AccessTransferWriteBit, vk.AccessShaderReadBit)
		}
		r.record(d, cmd)
	})
	if err != nil {
		return nil, err
	}
	return r.value(), nil
}

// reduceKind is the kind of op's result over elements of kind k.
func reduceKind(op spirv.ReduceOp, k ir.Kind) ir.Kind {
	if op == spirv.ReduceCount {
		return ir.KindU32
	}
	return k
}

// reducer is a reduction of n elements of a device buffer, ready to
// record after whatever writes that buffer.
type reducer struct {
	p1, p2 *pipeline // the first pass, and the passes over partials
	passes []reducePass
	parts  *buffer // every pass's partials, one after the other
	out    *buffer // the final value, host-visible (a staging buffer on discrete GPUs)
	last   uint32  // the final value's index in parts
	kind   ir.Kind
}

// reducePass is one pass: in elements from inOff reduce to out partials
// from outOff.
type reducePass struct{ in, out, inOff, outOff uint32 }

// newReducer prepares the reduction op of the n elements of kind k in
// buffer in. The caller holds d.mu and frees it.
func (d *Device) newReducer(op spirv.ReduceOp, k ir.Kind, n int, in *buffer) (*reducer, error) {
	first, err := spirv.Reduce(op, k)
	if err != nil {
		return nil, err
	}
	later := first
	if op == spirv.ReduceCount {
		if later, err = spirv.Reduce(spirv.ReduceSum, ir.KindU32); err != nil {
			return nil, err
		}
	}
	r := &reducer{kind: reduceKind(op, k)}
	if r.p1, err = d.pipelineFor(first.Binary, 2, spirv.ReducePushWords, "first"); err != nil {
		return nil, err
	}
	if r.p2, err = d.pipelineFor(later.Binary, 2, spirv.ReducePushWords, "later"); err != nil {
		return nil, err
	}
	total := uint32(0)
	for m, off := uint32(n), uint32(0); ; {
		groups := (m + spirv.ReduceChunk - 1) / spirv.ReduceChunk
		r.passes = append(r.passes, reducePass{in: m, out: groups, inOff: off, outOff: total})
		off = total
		total += groups
		if groups == 1 {
			break
		}
		m = groups
	}
	r.passes[0].inOff = 0
	r.last = r.passes[len(r.passes)-1].outOff
	if r.parts, err = d.newBuffer(4*int(total), storageUsage, !d.staging); err != nil {
		return nil, err
	}
	r.out = r.parts
	if d.staging {
		if r.out, err = d.newBuffer(4, stagingUsage, true); err != nil {
			r.free(d)
			return nil, err
		}
	}
	d.bind(r.p1, []*buffer{in, r.parts})
	d.bind(r.p2, []*buffer{r.parts, r.parts})
	return r, nil
}

// record records the passes, after a barrier for the writes of the
// input, and makes the final value visible to the host.
func (r *reducer) record(d *Device, cmd vk.CommandBuffer) {
	for i, ps := range r.passes {
		p := r.p1
		if i > 0 {
			p = r.p2
		}
		barrier(cmd, vk.PipelineStageComputeShaderBit|vk.PipelineStageTransferBit, vk.PipelineStageComputeShaderBit, vk.AccessShaderWriteBit|vk.AccessTransferWriteBit, vk.AccessShaderReadBit)
		vk.CmdBindPipeline(cmd, vk.PipelineBindPointCompute, p.pipe)
		vk.CmdBindDescriptorSets(cmd, vk.PipelineBindPointCompute, p.layout, 0, 1, []vk.DescriptorSet{p.set}, 0, nil)
		for base := uint32(0); base < ps.out; base += d.maxGroups {
			push := make([]uint32, spirv.ReducePushWords)
			push[spirv.ReducePushIn], push[spirv.ReducePushOut] = ps.inOff, ps.outOff
			push[spirv.ReducePushCount], push[spirv.ReducePushBase] = ps.in, base
			vk.CmdPushConstants(cmd, p.layout, vk.ShaderStageFlags(vk.ShaderStageComputeBit), 0, p.pushSize, pushPtr(push))
			vk.CmdDispatch(cmd, min(ps.out-base, d.maxGroups), 1, 1)
		}
	}
	if d.staging {
		barrier(cmd, vk.PipelineStageComputeShaderBit, vk.PipelineStageTransferBit, vk.AccessShaderWriteBit, vk.AccessTransferReadBit)
		vk.CmdCopyBuffer(cmd, r.parts.buf, r.out.buf, 1, []vk.BufferCopy{{SrcOffset: vk.DeviceSize(4 * r.last), Size: 4}})
		barrier(cmd, vk.PipelineStageTransferBit, vk.PipelineStageHostBit, vk.AccessTransferWriteBit, vk.AccessHostReadBit)
	} else {
		barrier(cmd, vk.PipelineStageComputeShaderBit, vk.PipelineStageHostBit, vk.AccessShaderWriteBit, vk.AccessHostReadBit)
	}
}

// value reads the final value after the submission.
func (r *reducer) value() any {
	off := 4 * int(r.last)
	if r.out != r.parts {
		off = 0
	}
	return element(getArray(r.out.bytes()[off:off+4], 1, r.kind))
}

func (r *reducer) free(d *Device) {
	if r.out != r.parts {
		d.freeBuffer(r.out)
	}
	d.freeBuffer(r.parts)
}

// element is the one element of a slice getArray returned.
func element(s any) any {
	switch s := s.(type) {
	case []float32:
		return s[0]
	case []int32:
		return s[0]
	case []uint32:
		return s[0]
	}
	return nil
}
