// This file implements the choice of vector width.

package vec

import "os"

// Level is the vector width in use: "avx512" (16 lanes of 32 bits),
// "avx2" (8 lanes) or "scalar".
func Level() string { return levelNames[level] }

// Lanes returns the number of 32-bit lanes of the vector loop, 1 when
// scalar.
func Lanes() int { return [...]int{1, 8, 16}[level] }

const (
	levelScalar = iota
	levelAVX2
	levelAVX512
)

var levelNames = [...]string{"scalar", "avx2", "avx512"}

// level is fixed at start: the widest the CPU has, lowered by KNHK_VEC.
// Tests of this package change it to cover each path.
var level = capLevel(cpuLevel(), os.Getenv("KNHK_VEC"))

func capLevel(cpu int, env string) int {
	for l, name := range levelNames {
		if env == name && l < cpu {
			return l
		}
	}
	return cpu
}
