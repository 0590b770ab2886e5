//go:build cgo

// This file implements compute pipelines: one per module, created once
// per device (through the device's VkPipelineCache) and kept, with a
// descriptor set that each run rewrites.

package accel

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	vk "github.com/vulkan-go/vulkan"
)

type pipeline struct {
	module   vk.ShaderModule
	setLay   vk.DescriptorSetLayout
	layout   vk.PipelineLayout
	pipe     vk.Pipeline
	pool     vk.DescriptorPool
	set      vk.DescriptorSet
	buffers  int
	pushSize uint32
}

// pipelineFor returns the pipeline of a module with nbuf storage buffers
// and push words of push constants, creating it on first use. Each
// variant of one module has its own descriptor set, for passes that bind
// different buffers in one submission.
func (d *Device) pipelineFor(code []byte, nbuf, push int, variant string) (*pipeline, error) {
	sum := sha256.Sum256(code)
	key := string(sum[:]) + variant
	if p, ok := d.pipelines[key]; ok {
		return p, nil
	}
	if len(code)%4 != 0 || len(code) == 0 {
		return nil, fmt.Errorf("vulkan: a SPIR-V module of %d bytes is not whole words", len(code))
	}
	if uint32(4*push) > d.Info.MaxPush {
		return nil, fmt.Errorf("vulkan: %d bytes of push constants: %w (the device has %d)", 4*push, ErrUnsupported, d.Info.MaxPush)
	}
	words := make([]uint32, len(code)/4)
	for i := range words {
		words[i] = binary.LittleEndian.Uint32(code[4*i:])
	}
	p := &pipeline{buffers: nbuf, pushSize: uint32(4 * push)}
	fail := func(err error) (*pipeline, error) {
		p.destroy(d.dev)
		return nil, d.note(err)
	}
	pin := pins(words)
	var module vk.ShaderModule
	r := vk.CreateShaderModule(d.dev, &vk.ShaderModuleCreateInfo{
		SType: vk.StructureTypeShaderModuleCreateInfo, CodeSize: uint(len(code)), PCode: words,
	}, nil, &module)
	pin.Unpin()
	p.module = module
	if err := check(r, "vkCreateShaderModule"); err != nil {
		return fail(err)
	}
	binds := make([]vk.DescriptorSetLayoutBinding, nbuf)
	for i := range binds {
		binds[i] = vk.DescriptorSetLayoutBinding{Binding: uint32(i), DescriptorType: vk.DescriptorTypeStorageBuffer, DescriptorCount: 1, StageFlags: vk.ShaderStageFlags(vk.ShaderStageComputeBit)}
	}
	var setLay vk.DescriptorSetLayout
	if err := check(vk.CreateDescriptorSetLayout(d.dev, &vk.DescriptorSetLayoutCreateInfo{
		SType: vk.StructureTypeDescriptorSetLayoutCreateInfo, BindingCount: uint32(nbuf), PBindings: binds,
	}, nil, &setLay), "vkCreateDescriptorSetLayout"); err != nil {
		return fail(err)
	}
	p.setLay = setLay
	setLays := []vk.DescriptorSetLayout{p.setLay}
	info := vk.PipelineLayoutCreateInfo{SType: vk.StructureTypePipelineLayoutCreateInfo, SetLayoutCount: 1, PSetLayouts: setLays}
	if push > 0 {
		info.PushConstantRangeCount = 1
		info.PPushConstantRanges = []vk.PushConstantRange{{StageFlags: vk.ShaderStageFlags(vk.ShaderStageComputeBit), Size: p.pushSize}}
	}
	pin = pins(setLays)
	var layout vk.PipelineLayout
	r = vk.CreatePipelineLayout(d.dev, &info, nil, &layout)
	pin.Unpin()
	p.layout = layout
	if err := check(r, "vkCreatePipelineLayout"); err != nil {
		return fail(err)
	}
	pipes := make([]vk.Pipeline, 1)
	entry := "main\x00"
	pin = pins[byte](nil)
	pinString(pin, entry)
	r = vk.CreateComputePipelines(d.dev, d.cache, 1, []vk.ComputePipelineCreateInfo{{
		SType: vk.StructureTypeComputePipelineCreateInfo,
		Stage: vk.PipelineShaderStageCreateInfo{
			SType: vk.StructureTypePipelineShaderStageCreateInfo, Stage: vk.ShaderStageComputeBit, Module: p.module, PName: entry,
		},
		Layout: p.layout,
	}}, nil, pipes)
	pin.Unpin()
	if err := check(r, "vkCreateComputePipelines"); err != nil {
		return fail(err)
	}
	p.pipe = pipes[0]
	var pool vk.DescriptorPool
	if err := check(vk.CreateDescriptorPool(d.dev, &vk.DescriptorPoolCreateInfo{
		SType: vk.StructureTypeDescriptorPoolCreateInfo, MaxSets: 1, PoolSizeCount: 1,
		PPoolSizes: []vk.DescriptorPoolSize{{Type: vk.DescriptorTypeStorageBuffer, DescriptorCount: uint32(nbuf)}},
	}, nil, &pool), "vkCreateDescriptorPool"); err != nil {
		return fail(err)
	}
	p.pool = pool
	pin = pins(setLays)
	var set vk.DescriptorSet
	r = vk.AllocateDescriptorSets(d.dev, &vk.DescriptorSetAllocateInfo{
		SType: vk.StructureTypeDescriptorSetAllocateInfo, DescriptorPool: p.pool, DescriptorSetCount: 1, PSetLayouts: setLays,
	}, &set)
	pin.Unpin()
	p.set = set
	if err := check(r, "vkAllocateDescriptorSets"); err != nil {
		return fail(err)
	}
	d.pipelines[key] = p
	d.newPipelines = true
	return p, nil
}

// bind points the pipeline's descriptor set at bufs, in binding order.
func (d *Device) bind(p *pipeline, bufs []*buffer) {
	writes := make([]vk.WriteDescriptorSet, len(bufs))
	infos := make([]vk.DescriptorBufferInfo, len(bufs))
	for i, b := range bufs {
		infos[i] = vk.DescriptorBufferInfo{Buffer: b.buf, Range: vk.DeviceSize(vk.WholeSize)}
		writes[i] = vk.WriteDescriptorSet{
			SType: vk.StructureTypeWriteDescriptorSet, DstSet: p.set, DstBinding: uint32(i), DescriptorCount: 1,
			DescriptorType: vk.DescriptorTypeStorageBuffer,
			PBufferInfo:    infos[i : i+1],
		}
	}
	pin := pins(infos)
	vk.UpdateDescriptorSets(d.dev, uint32(len(writes)), writes, 0, nil)
	pin.Unpin()
}

func (p *pipeline) destroy(dev vk.Device) {
	if p.pool != vk.NullDescriptorPool {
		vk.DestroyDescriptorPool(dev, p.pool, nil)
	}
	if p.pipe != vk.NullPipeline {
		vk.DestroyPipeline(dev, p.pipe, nil)
	}
	if p.layout != vk.NullPipelineLayout {
		vk.DestroyPipelineLayout(dev, p.layout, nil)
	}
	if p.setLay != vk.NullDescriptorSetLayout {
		vk.DestroyDescriptorSetLayout(dev, p.setLay, nil)
	}
	if p.module != vk.NullShaderModule {
		vk.DestroyShaderModule(dev, p.module, nil)
	}
}
