package license_test

import (
	"context"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/license"
	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/server"
)

// BenchmarkStartLicensed measures the server's start path with a
// licence enforcing concurrent_cases and transitions_per_month against
// the same path without one, in the same run, and reports the ratio.
func BenchmarkStartLicensed(b *testing.B) {
	k, err := sign.Generate(license.Alg)
	if err != nil {
		b.Fatal(err)
	}
	big := int64(1 << 40)
	now := time.Now().UTC()
	raw, err := license.Issue(k, license.Payload{ID: "b", Customer: "acme", Tier: "t",
		Limits: license.Limits{ConcurrentCases: &big, TransitionsPerMonth: &big}, Issued: now, Expires: now.AddDate(0, 1, 0)})
	if err != nil {
		b.Fatal(err)
	}
	l, err := license.Parse(raw)
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, licensed bool) time.Duration {
		opts := server.Options{IndexEvery: -1}
		var enf *license.Enforcer
		if licensed {
			enf = license.NewEnforcer(l)
			opts.AdmitStart = enf.AdmitStart
		}
		svc, err := server.Open(b.TempDir(), opts)
		if err != nil {
			b.Fatal(err)
		}
		if enf != nil {
			enf.Running = func() int {
				r := 0
				svc.CaseCounts(func(_, status string, k int) {
					if status == "running" {
						r += k
					}
				})
				return r
			}
		}
		if _, err := svc.Deploy("hold.knhk", []byte(holdSrc), nil); err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		start := time.Now()
		for range b.N {
			if _, _, err := svc.Start(ctx, server.StartRequest{Workflow: "Hold", Input: []byte(`"x"`)}); err != nil {
				b.Fatal(err)
			}
		}
		d := time.Since(start)
		svc.Close(ctx)
		return d
	}
	base := run(b, false)
	b.ResetTimer()
	lic := run(b, true)
	b.ReportMetric(float64(lic)/float64(base), "licensed/unlicensed")
}
