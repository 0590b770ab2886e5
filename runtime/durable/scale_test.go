// This file checks that a loop's cost grows linearly with its items, in
// what can be counted exactly: the bytes its case writes to the log and
// the bytes it allocates. (Its time is the benchmarks' business: see
// scale_bench_test.go.)

package durable

import (
	"runtime"
	"testing"
)

// perItem returns the log bytes and the allocated bytes per item of one
// case of wf over n items in memory.
func perItem(t *testing.T, wf string, n int) (logB, allocB float64) {
	p := mustCompile(t, scaleSource)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := runScale(t, p, wf, "memory", n)
	runtime.ReadMemStats(&after)
	return r.bytesPerItem(), float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
}

// TestLoopCostIsLinear runs each loop over 500 and over 4,000 items and
// checks that an item costs about as many log bytes and allocated bytes
// in the longer loop as in the shorter: a loop that re-encodes its list
// or all its instances into the log every few events, or that converts
// its whole list at every iteration, costs several times more per item
// at 4,000.
func TestLoopCostIsLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("runs loops of 4,000 items")
	}
	for _, wf := range []string{"Seq", "Par"} {
		t.Run(wf, func(t *testing.T) {
			logSmall, allocSmall := perItem(t, wf, 500)
			logLarge, allocLarge := perItem(t, wf, 4000)
			t.Logf("log bytes per item %.0f -> %.0f, allocated bytes per item %.0f -> %.0f", logSmall, logLarge, allocSmall, allocLarge)
			if r := logLarge / logSmall; r > 1.5 {
				t.Errorf("log bytes per item grow %.1fx from 500 to 4,000 items (%.0f -> %.0f)", r, logSmall, logLarge)
			}
			if r := allocLarge / allocSmall; r > 1.5 {
				t.Errorf("allocated bytes per item grow %.1fx from 500 to 4,000 items (%.0f -> %.0f)", r, allocSmall, allocLarge)
			}
		})
	}
}
