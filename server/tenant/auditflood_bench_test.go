package tenant

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/server/auth"
)

// BenchmarkNeighbourAuditCommits counts what a tenant at its rate (50/s,
// burst 10) costs the shared audit log through the audited front, as
// knhk serve --tenants serves: its clients start cases for 3 s, 8 of
// them honouring the retry hint, then 64 retrying refused calls after
// 1 ms, and it prints the audit log's commits (each a write and an
// fsync, a journal commit on the disk every tenant shares) a second and
// per admitted start, beside the starts and refusals a second. A
// refusal's record rides an admitted call's commit (auditrefused.go),
// so the commits follow the admitted starts, not the refusals.
//
//	go test ./server/tenant -run XXX -bench NeighbourAuditCommits -benchtime 1x -v
func BenchmarkNeighbourAuditCommits(b *testing.B) {
	f := newFixture(b, map[string]Quota{"acme": {Rate: 50, Burst: 10}})
	log, url := auditedServer(b, f)
	tok := f.priv(auth.Principal{Subject: "n", Tenant: "acme", Role: auth.RoleAdmin})
	deployTest(b, ownClient(url, tok, 2))
	for range b.N {
		for _, c := range []struct {
			name       string
			goroutines int
			honour     bool
		}{{"8 honouring the hint", 8, true}, {"64 retrying after 1 ms", 64, false}} {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			c0, t0 := log.Commits(), time.Now()
			started, refused := hammer(ctx, fairCond{url: url, token: tok, workflow: "Inc", input: "1", honour: c.honour}, c.goroutines)
			cancel()
			d := time.Since(t0).Seconds()
			commits := float64(log.Commits() - c0)
			b.Logf("%s: %.0f starts/s, %.0f refusals/s, %.0f audit commits/s (%.2f per start)", c.name, float64(started)/d, float64(refused)/d, commits/d, commits/max(float64(started), 1))
			b.ReportMetric(commits/max(float64(started), 1), fmt.Sprintf("commits/start-%d", c.goroutines))
		}
	}
}

// auditedServer serves f's tenants through the audited front, as knhk
// serve --tenants does, with the audit log of f's data directory; both
// close when the benchmark ends.
func auditedServer(b *testing.B, f *fixture) (*audit.Log, string) {
	b.Helper()
	log, err := audit.Open(f.data)
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(f.host.Audited(log))
	b.Cleanup(func() {
		ts.Close()
		log.Close()
	})
	return log, ts.URL
}
