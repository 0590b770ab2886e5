// This file implements the description of how a runner binds a compiled
// module: its storage buffers and its push constants, in order.

package spirv

import "github.com/knhk/knhk/compiler/ir"

// LocalSize is the workgroup size of kernel modules: invocations per
// workgroup along x.
const LocalSize = 64

// MaxPushWords bounds the push constants of a module: 128 bytes, the
// least every Vulkan device offers.
const MaxPushWords = 32

// Role says what a storage buffer or push constant word holds.
type Role uint8

// The roles.
const (
	RoleInput  Role = iota // an array parameter of a kernel
	RoleOutput             // a kernel's result array
	RoleError              // one u32: the least failing element index, or NoError
	RoleBase               // push: the first element of this dispatch
	RoleCount              // push: the number of elements
	RoleLength             // push: the length of an array parameter
	RoleScalar             // push: a scalar parameter
)

// NoError is the error word's value when no element failed.
const NoError = 0xFFFFFFFF

// Slot is one storage buffer (binding = its index in [Shader.Buffers],
// descriptor set 0) or one push constant word (offset = 4 × its index in
// [Shader.Push]). Bool elements and scalars are u32 0 or 1.
type Slot struct {
	Role   Role
	Kernel int     // index into Shader.Kernels, for inputs, outputs, lengths and scalars
	Param  int     // the kernel parameter, for inputs, lengths and scalars
	Kind   ir.Kind // the element or scalar kind: f32, i32, u32 or bool
}

// Shader is a compiled module and its interface.
type Shader struct {
	Name    string // the kernels' names joined with "+"
	Binary  []byte // the SPIR-V module
	Kernels []int  // the program's kernel indexes the module computes
	Buffers []Slot
	Push    []Slot
}
