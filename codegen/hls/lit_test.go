package hls

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestF32Lit: every f32 constant is written as a literal that reads back
// as the same bits (the special values through their bits).
func TestF32Lit(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	vals := []float32{0, 1, 3, 0.1, 0.004, 1e-45, 1e-40, 3.4028235e38, 16777217, 1.5e10}
	for range 20000 {
		vals = append(vals, math.Float32frombits(rng.Uint32()))
	}
	for _, f := range vals {
		lit := f32Lit(f)
		if strings.HasPrefix(lit, "knhk_bits_f32(") {
			if f == f && !math.IsInf(float64(f), 0) && !(f == 0 && math.Signbit(float64(f))) {
				t.Fatalf("%v written through its bits", f)
			}
			continue
		}
		if !strings.HasSuffix(lit, "f") || !strings.ContainsAny(lit, ".e") {
			t.Fatalf("%v: %q is not a C++ float literal", f, lit)
		}
		g, err := strconv.ParseFloat(strings.TrimSuffix(lit, "f"), 32)
		if err != nil || math.Float32bits(float32(g)) != math.Float32bits(f) {
			t.Fatalf("%v (%08x): %q reads back as %v", f, math.Float32bits(f), lit, g)
		}
	}
}
