// This file implements the layout of kernel arguments in device memory:
// 4-byte little-endian elements, bool as u32 0 or 1.

package accel

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/knhk/knhk/compiler/ir"
)

// arrayLen returns the length of an array argument of kind k.
func arrayLen(a any, k ir.Kind) (int, error) {
	switch s := a.(type) {
	case []float32:
		if k == ir.KindF32 {
			return len(s), nil
		}
	case []int32:
		if k == ir.KindI32 {
			return len(s), nil
		}
	case []uint32:
		if k == ir.KindU32 {
			return len(s), nil
		}
	case []bool:
		if k == ir.KindBool {
			return len(s), nil
		}
	}
	return 0, fmt.Errorf("accel: argument of type %T where the kernel takes [%s]", a, k)
}

// putArray writes array a into dst (4 bytes per element).
func putArray(dst []byte, a any) {
	switch s := a.(type) {
	case []float32:
		if len(s) > 0 {
			copy(dst, unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 4*len(s)))
		}
	case []int32:
		if len(s) > 0 {
			copy(dst, unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 4*len(s)))
		}
	case []uint32:
		if len(s) > 0 {
			copy(dst, unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 4*len(s)))
		}
	case []bool:
		for i, b := range s {
			var w uint32
			if b {
				w = 1
			}
			binary.LittleEndian.PutUint32(dst[4*i:], w)
		}
	}
}

// getArray reads n elements of kind k from src.
func getArray(src []byte, n int, k ir.Kind) any {
	switch k {
	case ir.KindF32:
		s := make([]float32, n)
		if n > 0 {
			copy(unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 4*n), src)
		}
		return s
	case ir.KindI32:
		s := make([]int32, n)
		if n > 0 {
			copy(unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 4*n), src)
		}
		return s
	case ir.KindU32:
		s := make([]uint32, n)
		if n > 0 {
			copy(unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 4*n), src)
		}
		return s
	}
	s := make([]bool, n)
	for i := range s {
		s[i] = binary.LittleEndian.Uint32(src[4*i:]) != 0
	}
	return s
}

// scalarWord is the push constant word of scalar argument a of kind k.
func scalarWord(a any, k ir.Kind) (uint32, error) {
	switch v := a.(type) {
	case float32:
		if k == ir.KindF32 {
			return math.Float32bits(v), nil
		}
	case int32:
		if k == ir.KindI32 {
			return uint32(v), nil
		}
	case uint32:
		if k == ir.KindU32 {
			return v, nil
		}
	case bool:
		if k == ir.KindBool {
			if v {
				return 1, nil
			}
			return 0, nil
		}
	}
	return 0, fmt.Errorf("accel: argument of type %T where the kernel takes %s", a, k)
}

// hostLittle reports whether the host is little-endian, as the unsafe
// byte views above and the device layout assume; Run refuses otherwise.
var hostLittle = func() bool {
	x := uint32(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()
