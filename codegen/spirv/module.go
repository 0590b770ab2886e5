// This file implements the module builder: SPIR-V words in the sections
// the specification orders, fresh ids, and deduplicated types and
// constants.

package spirv

import (
	"encoding/binary"
	"fmt"
	"math"
)

// builder accumulates one SPIR-V module.
type builder struct {
	bound uint32
	// The sections, in module order.
	caps, exts, imports, memModel, entries, modes, names, decos, globals, funcs []uint32
	types                                                                       map[string]uint32 // deduplicated types and constants by key
	glsl                                                                        uint32            // the GLSL.std.450 import, 0 until used
	iface                                                                       []uint32          // Input variables the entry point lists
	haveCp                                                                      map[Capability]bool
}

func newBuilder() *builder {
	b := &builder{bound: 1, types: map[string]uint32{}, haveCp: map[Capability]bool{}}
	b.capability(CapabilityShader)
	b.memModel = inst(nil, OpMemoryModel, uint32(AddressingModelLogical), uint32(MemoryModelGLSL450))
	return b
}

func (b *builder) id() uint32 { b.bound++; return b.bound - 1 }

// inst appends one instruction to words.
func inst(words []uint32, op Opcode, operands ...uint32) []uint32 {
	return append(append(words, uint32(len(operands)+1)<<16|uint32(op)), operands...)
}

// str encodes a literal string: UTF-8, NUL-terminated, padded to words.
func str(s string) []uint32 {
	bs := append([]byte(s), 0)
	for len(bs)%4 != 0 {
		bs = append(bs, 0)
	}
	w := make([]uint32, len(bs)/4)
	for i := range w {
		w[i] = binary.LittleEndian.Uint32(bs[4*i:])
	}
	return w
}

func (b *builder) capability(c Capability) {
	if !b.haveCp[c] {
		b.haveCp[c] = true
		b.caps = inst(b.caps, OpCapability, uint32(c))
	}
}

func (b *builder) name(id uint32, s string) {
	b.names = inst(b.names, OpName, append([]uint32{id}, str(s)...)...)
}

func (b *builder) decorate(id uint32, d Decoration, lits ...uint32) {
	b.decos = inst(b.decos, OpDecorate, append([]uint32{id, uint32(d)}, lits...)...)
}

func (b *builder) memberDecorate(id, member uint32, d Decoration, lits ...uint32) {
	b.decos = inst(b.decos, OpMemberDecorate, append([]uint32{id, member, uint32(d)}, lits...)...)
}

// global returns the id of the type or constant with key, emitting it
// with emit(id) the first time.
func (b *builder) global(key string, emit func(id uint32) []uint32) uint32 {
	if id, ok := b.types[key]; ok {
		return id
	}
	id := b.id()
	b.types[key] = id
	b.globals = append(b.globals, emit(id)...)
	return id
}

func (b *builder) tVoid() uint32 {
	return b.global("void", func(id uint32) []uint32 { return inst(nil, OpTypeVoid, id) })
}
func (b *builder) tBool() uint32 {
	return b.global("bool", func(id uint32) []uint32 { return inst(nil, OpTypeBool, id) })
}
func (b *builder) tF32() uint32 {
	return b.global("f32", func(id uint32) []uint32 { return inst(nil, OpTypeFloat, id, 32) })
}
func (b *builder) tI32() uint32 {
	return b.global("i32", func(id uint32) []uint32 { return inst(nil, OpTypeInt, id, 32, 1) })
}
func (b *builder) tU32() uint32 {
	return b.global("u32", func(id uint32) []uint32 { return inst(nil, OpTypeInt, id, 32, 0) })
}
func (b *builder) tVec(elem, n uint32) uint32 {
	return b.global(fmt.Sprintf("vec%d,%d", elem, n), func(id uint32) []uint32 { return inst(nil, OpTypeVector, id, elem, n) })
}
func (b *builder) tPtr(sc StorageClass, elem uint32) uint32 {
	return b.global(fmt.Sprintf("ptr%d,%d", sc, elem), func(id uint32) []uint32 { return inst(nil, OpTypePointer, id, uint32(sc), elem) })
}
func (b *builder) tFunc(ret uint32, params ...uint32) uint32 {
	return b.global(fmt.Sprintf("fn%d%v", ret, params), func(id uint32) []uint32 {
		return inst(nil, OpTypeFunction, append([]uint32{id, ret}, params...)...)
	})
}

// tRuntimeArray is a runtime array of 4-byte elements, with its stride.
func (b *builder) tRuntimeArray(elem uint32) uint32 {
	return b.global(fmt.Sprintf("rta%d", elem), func(id uint32) []uint32 {
		b.decorate(id, DecorationArrayStride, 4)
		return inst(nil, OpTypeRuntimeArray, id, elem)
	})
}

// tArray is an array of n 4-byte elements.
func (b *builder) tArray(elem, n uint32) uint32 {
	length := b.cU32(n)
	return b.global(fmt.Sprintf("arr%d,%d", elem, n), func(id uint32) []uint32 {
		return inst(nil, OpTypeArray, id, elem, length)
	})
}

// tBufferBlock is the Block struct { elem data[]; } of a storage buffer.
func (b *builder) tBufferBlock(elem uint32) uint32 {
	rta := b.tRuntimeArray(elem)
	return b.global(fmt.Sprintf("buf%d", elem), func(id uint32) []uint32 {
		b.decorate(id, DecorationBlock)
		b.memberDecorate(id, 0, DecorationOffset, 0)
		return inst(nil, OpTypeStruct, id, rta)
	})
}

func (b *builder) cBool(v bool) uint32 {
	t := b.tBool()
	op := OpConstantFalse
	if v {
		op = OpConstantTrue
	}
	return b.global(fmt.Sprintf("c:bool:%v", v), func(id uint32) []uint32 { return inst(nil, op, t, id) })
}
func (b *builder) cU32(v uint32) uint32 {
	t := b.tU32()
	return b.global(fmt.Sprintf("c:u32:%d", v), func(id uint32) []uint32 { return inst(nil, OpConstant, t, id, v) })
}
func (b *builder) cI32(v int32) uint32 {
	t := b.tI32()
	return b.global(fmt.Sprintf("c:i32:%d", v), func(id uint32) []uint32 { return inst(nil, OpConstant, t, id, uint32(v)) })
}

// cF32 is the constant with f's exact bits (so -0 and NaN payloads are
// distinct constants).
func (b *builder) cF32(f float32) uint32 {
	t := b.tF32()
	bits := math.Float32bits(f)
	return b.global(fmt.Sprintf("c:f32:%08x", bits), func(id uint32) []uint32 { return inst(nil, OpConstant, t, id, bits) })
}

// glslSet returns the id of the GLSL.std.450 import.
func (b *builder) glslSet() uint32 {
	if b.glsl == 0 {
		b.glsl = b.id()
		b.imports = inst(b.imports, OpExtInstImport, append([]uint32{b.glsl}, str("GLSL.std.450")...)...)
	}
	return b.glsl
}

// entryPoint declares main as the GLCompute entry point with the given
// workgroup size.
func (b *builder) entryPoint(main uint32, local uint32) {
	b.entries = inst(b.entries, OpEntryPoint, append(append([]uint32{uint32(ExecutionModelGLCompute), main}, str("main")...), b.iface...)...)
	b.modes = inst(b.modes, OpExecutionMode, main, uint32(ExecutionModeLocalSize), local, 1, 1)
}

// Version is the SPIR-V version of the modules: 1.3, the newest that
// Vulkan 1.1 accepts, where storage buffers are core.
const Version = 0x00010300

// generator is the module header's generator word: no registered tool id.
const generator = 0

// binary returns the module's words as little-endian bytes.
func (b *builder) binary() []byte {
	words := []uint32{MagicNumber, Version, generator, b.bound, 0}
	for _, s := range [][]uint32{b.caps, b.exts, b.imports, b.memModel, b.entries, b.modes, b.names, b.decos, b.globals, b.funcs} {
		words = append(words, s...)
	}
	out := make([]byte, 4*len(words))
	for i, w := range words {
		binary.LittleEndian.PutUint32(out[4*i:], w)
	}
	return out
}
