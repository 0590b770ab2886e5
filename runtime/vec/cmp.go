// This file implements comparison operators and masks.

package vec

// Cmp is a comparison operator.
type Cmp uint8

// The comparisons, as in the language: on floats, every comparison with
// a NaN is false except Ne.
const (
	Eq Cmp = iota
	Ne
	Lt
	Le
	Gt
	Ge
)

func (c Cmp) String() string {
	if int(c) < len(cmpNames) {
		return cmpNames[c]
	}
	return "cmp(?)"
}

var cmpNames = [...]string{"==", "!=", "<", "<=", ">", ">="}

// lane is an element type of a vector: the scalar loops are written once
// for both, and each instantiation compiles to its own machine code.
type lane interface {
	float32 | int32 | int64 | float64
}

func cmpLane[T lane](op Cmp, a, b T) bool {
	switch op {
	case Eq:
		return a == b
	case Ne:
		return a != b
	case Lt:
		return a < b
	case Le:
		return a <= b
	case Gt:
		return a > b
	}
	return a >= b
}

// Mask is b as a mask lane: -1 for true, 0 for false.
func Mask(b bool) int32 { return mask(b) }

func mask(b bool) int32 {
	if b {
		return -1
	}
	return 0
}

// MaskFromBools sets dst[i] to -1 where src[i] is true and 0 elsewhere.
func MaskFromBools(dst []int32, src []bool) {
	src = src[:len(dst)]
	for i, b := range src {
		dst[i] = mask(b)
	}
}

// BoolsFromMask sets dst[i] to whether m[i] is non-zero.
func BoolsFromMask(dst []bool, m []int32) {
	m = m[:len(dst)]
	for i, x := range m {
		dst[i] = x != 0
	}
}
