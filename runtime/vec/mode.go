// This file implements the modes of a compiled kernel's loop.

package vec

// Mode says how a compiled kernel runs its loop. The zero Mode is one
// goroutine computing one element at a time: the scalar Go loop.
type Mode uint8

const (
	// ModeSplit splits the loop over GOMAXPROCS goroutines from
	// [ParallelMin] elements on.
	ModeSplit Mode = 1 << iota
	// ModeColumns runs the kernel a column of elements at a time through
	// this package's primitives (vector loops with the simd experiment),
	// where the generator could compile the kernel that way.
	ModeColumns
	// ModeAuto is what a compiled program uses: both.
	ModeAuto = ModeSplit | ModeColumns
)
