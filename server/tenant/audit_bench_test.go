package tenant

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/server/auth"
)

// BenchmarkAuditOverhead measures what the audit costs an API call: a
// tenant's GetCase over HTTP through the tenant front alone and through
// the audited front (one durable record per call, group-committed), from
// 1 and from 8 goroutines, alternating in rounds within one run so that
// the machine's load falls on both alike. It reports the median call
// time of each and their ratio.
//
//	go test ./server/tenant -run XXX -bench AuditOverhead -benchtime 1x -count 5
func BenchmarkAuditOverhead(b *testing.B) {
	f := newFixture(b, nil)
	log, err := audit.Open(f.data)
	if err != nil {
		b.Fatal(err)
	}
	defer log.Close()
	audited := httptest.NewServer(f.host.Audited(log))
	defer audited.Close()
	tok := f.priv(auth.Principal{Subject: "bench", Tenant: "acme", Role: auth.RoleAdmin})
	ctx := context.Background()
	plainC := knhkv1connect.NewKnhkServiceClient(http.DefaultClient, f.url, connect.WithInterceptors(bearerInterceptor(tok)))
	auditC := knhkv1connect.NewKnhkServiceClient(http.DefaultClient, audited.URL, connect.WithInterceptors(bearerInterceptor(tok)))
	if _, err := plainC.Deploy(ctx, connect.NewRequest(&knhkv1.DeployRequest{Name: "two.knhk", Source: testSrc})); err != nil {
		b.Fatal(err)
	}
	s, err := plainC.StartCase(ctx, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Inc", InputJson: "1"}))
	if err != nil {
		b.Fatal(err)
	}
	req := &knhkv1.GetCaseRequest{CaseId: s.Msg.CaseId}
	for _, conc := range []int{1, 8} {
		var plain, aud []time.Duration
		round := func(c knhkv1connect.KnhkServiceClient, into *[]time.Duration) {
			var mu sync.Mutex
			var wg sync.WaitGroup
			for g := 0; g < conc; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 200/conc; i++ {
						t0 := time.Now()
						if _, err := c.GetCase(ctx, connect.NewRequest(req)); err != nil {
							b.Error(err)
							return
						}
						d := time.Since(t0)
						mu.Lock()
						*into = append(*into, d)
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
		}
		for i := 0; i < b.N; i++ {
			for r := 0; r < 6; r++ {
				if r%2 == 0 {
					round(plainC, &plain)
					round(auditC, &aud)
				} else {
					round(auditC, &aud)
					round(plainC, &plain)
				}
			}
		}
		mp, ma := median(plain), median(aud)
		b.ReportMetric(float64(mp.Microseconds()), "plain-µs/call-conc"+itoa(conc))
		b.ReportMetric(float64(ma.Microseconds()), "audited-µs/call-conc"+itoa(conc))
		b.ReportMetric(float64(ma)/float64(mp), "ratio-conc"+itoa(conc))
	}
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return "n"
}
