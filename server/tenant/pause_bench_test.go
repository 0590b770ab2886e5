package tenant

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/knhk/knhk/server/auth"
)

// BenchmarkQuietAfterPause measures, with no neighbour at all, what a
// pause of the quiet tenant's client costs its next case (start to
// result through the audited front): in rounds, each pause of 0, 20,
// 70 and 150 ms follows ten cases, and the case after it and the one
// after that are timed. It prints each one's median and 90th
// percentile and reports the first case's median over the unpaused
// one's. The noisy neighbour benchmarks once paused the quiet client
// 70-150 ms before each neighbour block's counted cases, and never
// before alone's (fairbench_test.go): this is what that pause cost.
//
//	go test ./server/tenant -run XXX -bench QuietAfterPause -benchtime 1x -v
func BenchmarkQuietAfterPause(b *testing.B) {
	f := newFixture(b, nil)
	_, url := auditedServer(b, f)
	quiet := ownClient(url, f.priv(auth.Principal{Subject: "q", Tenant: "beta", Role: auth.RoleAdmin}), 4)
	deployTest(b, quiet)
	q := quietCase(b, quiet, "Inc", "1", "2")
	for range 300 {
		q()
	}
	pauses := []time.Duration{0, 20 * time.Millisecond, 70 * time.Millisecond, 150 * time.Millisecond}
	for range b.N {
		first := map[time.Duration][]time.Duration{}
		second := map[time.Duration][]time.Duration{}
		for range 60 {
			for _, p := range pauses {
				for range 10 {
					q()
				}
				time.Sleep(p)
				first[p] = append(first[p], q())
				second[p] = append(second[p], q())
			}
		}
		med := func(v []time.Duration, p int) time.Duration {
			s := slices.Sorted(slices.Values(v))
			return s[len(s)*p/100]
		}
		b.Logf("load average %s", loadAvg())
		for _, p := range pauses {
			b.Logf("pause %-5v first case p50 %v p90 %v | the one after it p50 %v p90 %v", p,
				med(first[p], 50).Round(time.Microsecond), med(first[p], 90).Round(time.Microsecond),
				med(second[p], 50).Round(time.Microsecond), med(second[p], 90).Round(time.Microsecond))
			if p > 0 {
				b.ReportMetric(float64(med(first[p], 50))/float64(med(first[0], 50)), fmt.Sprintf("p50-after-%v/unpaused", p))
			}
		}
	}
}
