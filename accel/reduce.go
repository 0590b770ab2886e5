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
	first, err := spirv.Reduce(op, k)
	if err != nil {
		return nil, err
	}
	later := first
	accKind := k
	if op == spirv.ReduceCount {
		accKind = ir.KindU32
		if later, err = spirv.Reduce(spirv.ReduceSum, ir.KindU32); err != nil {
			return nil, err
		}
	}
	if n == 0 {
		if op == spirv.ReduceMin || op == spirv.ReduceMax {
			return nil, fmt.Errorf("accel: %s of no elements", op)
		}
		return element(getArray(make([]byte, 4), 1, accKind)), nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dev == nil {
		return nil, fmt.Errorf("accel: %w: the device is closed", ErrNoDevice)
	}
	if d.lost {
		return nil, fmt.Errorf("vulkan: %s: %w", d.Info.Name, ErrDeviceLost)
	}
	p1, err := d.pipelineFor(first.Binary, 2, spirv.ReducePushWords, "first")
	if err != nil {
		return nil, err
	}
	p2, err := d.pipelineFor(later.Binary, 2, spirv.ReducePushWords, "later")
	if err != nil {
		return nil, err
	}
	// The passes: counts of elements in and partials out, and where
	// each pass's partials start in the one partials buffer.
	type pass struct{ in, out, inOff, outOff uint32 }
	var passes []pass
	total := uint32(0)
	for m, off := uint32(n), uint32(0); ; {
		groups := (m + spirv.ReduceChunk - 1) / spirv.ReduceChunk
		passes = append(passes, pass{in: m, out: groups, inOff: off, outOff: total})
		off = total
		total += groups
		if groups == 1 {
			break
		}
		m = groups
	}
	passes[0].inOff = 0
	in, err := d.newBuffer(4*n, storageUsage, !d.staging)
	if err != nil {
		return nil, err
	}
	defer d.freeBuffer(in)
	parts, err := d.newBuffer(4*int(total), storageUsage, !d.staging)
	if err != nil {
		return nil, err
	}
	defer d.freeBuffer(parts)
	inHost, outHost := in, parts
	if d.staging {
		if inHost, err = d.newBuffer(4*n, stagingUsage, true); err != nil {
			return nil, err
		}
		defer d.freeBuffer(inHost)
		if outHost, err = d.newBuffer(4, stagingUsage, true); err != nil {
			return nil, err
		}
		defer d.freeBuffer(outHost)
	}
	putArray(inHost.bytes(), data)
	d.bind(p1, []*buffer{in, parts})
	d.bind(p2, []*buffer{parts, parts})
	last := passes[len(passes)-1].outOff
	err = d.submit(ctx, func(cmd vk.CommandBuffer) {
		if d.staging {
			vk.CmdCopyBuffer(cmd, inHost.buf, in.buf, 1, []vk.BufferCopy{{Size: vk.DeviceSize(4 * n)}})
			barrier(cmd, vk.PipelineStageTransferBit, vk.PipelineStageComputeShaderBit, vk.AccessTransferWriteBit, vk.AccessShaderReadBit)
		}
		for i, ps := range passes {
			p := p1
			if i > 0 {
				p = p2
				barrier(cmd, vk.PipelineStageComputeShaderBit, vk.PipelineStageComputeShaderBit, vk.AccessShaderWriteBit, vk.AccessShaderReadBit)
			}
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
			vk.CmdCopyBuffer(cmd, parts.buf, outHost.buf, 1, []vk.BufferCopy{{SrcOffset: vk.DeviceSize(4 * last), Size: 4}})
			barrier(cmd, vk.PipelineStageTransferBit, vk.PipelineStageHostBit, vk.AccessTransferWriteBit, vk.AccessHostReadBit)
		} else {
			barrier(cmd, vk.PipelineStageComputeShaderBit, vk.PipelineStageHostBit, vk.AccessShaderWriteBit, vk.AccessHostReadBit)
		}
	})
	if err != nil {
		return nil, err
	}
	off := 4 * int(last)
	if d.staging {
		off = 0
	}
	return element(getArray(outHost.bytes()[off:off+4], 1, accKind)), nil
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
