// This file benchmarks the primitives at each vector level against a
// copy() of the same bytes in the same run.

package vec

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func medianCopy(dst, src []byte) float64 {
	var ts []time.Duration
	for range 11 {
		t := time.Now()
		copy(dst, src)
		ts = append(ts, time.Since(t))
	}
	slices.Sort(ts)
	return float64(ts[5].Nanoseconds())
}

// BenchmarkPrimitives reports GB/s over the bytes read and written,
// x-copy (that rate over copy()'s: 1 is the memory-bandwidth limit) and
// x-scalar (the scalar loop's time over this one's, measured first).
func BenchmarkPrimitives(b *testing.B) {
	const n = 1 << 20
	a, c, d := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range a {
		a[i], c[i] = float32(i%97)+0.5, float32(i%13)+1
	}
	ops := []struct {
		name  string
		bytes int
		f     func()
	}{
		{"MulF32", 12 * n, func() { MulF32(d, a, c) }},
		{"DivF32", 12 * n, func() { DivF32(d, a, c) }},
		{"SumF32", 4 * n, func() { SumF32(a) }},
		{"CountF32", 4 * n, func() { CountF32(Gt, a, 50) }},
	}
	saved := level
	defer func() { level = saved }()
	for _, op := range ops {
		cp := medianCopy(make([]byte, op.bytes), make([]byte, op.bytes))
		level = levelScalar
		t := time.Now()
		for range 20 {
			op.f()
		}
		scalar := float64(time.Since(t).Nanoseconds()) / 20
		for l := levelScalar; l <= cpuLevel(); l++ {
			b.Run(fmt.Sprintf("%s/%s", op.name, levelNames[l]), func(b *testing.B) {
				level = l
				b.SetBytes(int64(op.bytes))
				for b.Loop() {
					op.f()
				}
				ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
				b.ReportMetric(float64(op.bytes)/ns, "GB/s")
				b.ReportMetric(cp/ns, "x-copy")
				b.ReportMetric(scalar/ns, "x-scalar")
			})
		}
	}
}
