// Package benchways runs the ways a benchmark compares interleaved in
// rounds in one process, so that the load of a shared machine weighs on
// each alike, and reports each way's median and its ratio to a
// baseline way.
package benchways

import (
	"slices"
	"testing"
	"time"
)

// Run runs one(way) for every way of ways, in rounds: 5 rounds to warm
// up, then b.N measured ones. one returns the latency it measured. Run
// reports each way's median as "WAY-p50-UNIT" (in units of unit, named
// unitName) and its ratio to base's median as "WAY/BASE".
func Run(b *testing.B, ways []string, base string, unit time.Duration, unitName string, one func(way string) time.Duration) {
	b.Helper()
	lat := map[string][]time.Duration{}
	for range 5 {
		for _, w := range ways {
			one(w)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, w := range ways {
			lat[w] = append(lat[w], one(w))
		}
	}
	b.StopTimer()
	med := map[string]time.Duration{}
	for _, w := range ways {
		slices.Sort(lat[w])
		med[w] = lat[w][len(lat[w])/2]
		b.ReportMetric(float64(med[w])/float64(unit), w+"-p50-"+unitName)
	}
	for _, w := range ways {
		b.ReportMetric(float64(med[w])/float64(med[base]), w+"/"+base)
	}
}
