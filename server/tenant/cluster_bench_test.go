package tenant

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/server/auth"
)

// BenchmarkClusterNoisyNeighbour is BenchmarkNoisyNeighbour on three
// cluster nodes in one process: tenant beta's p99 start-to-result
// latency (StartCase then WaitCase through one node, which forwards to
// beta's group leader when it is not it) alone and beside tenant acme
// starting cases from 8 goroutines through the same node at its quota
// (rate 10/s burst 2, then 50/s burst 10), honouring the retry hint.
// Rounds alternate the conditions; alone's even over odd rounds is the
// noise floor.
//
//	go test ./server/tenant -run XXX -bench ClusterNoisyNeighbour -benchtime 1x
func BenchmarkClusterNoisyNeighbour(b *testing.B) {
	const rounds, per = 16, 20
	f := newClusterFixture(b)
	url := f.follower("beta")
	quiet := (&fixture{url: url}).client(f.priv(auth.Principal{Subject: "q", Tenant: "beta", Role: auth.RoleAdmin}))
	noisy := (&fixture{url: url}).client(f.priv(auth.Principal{Subject: "n", Tenant: "acme", Role: auth.RoleAdmin}))
	ctx := context.Background()
	collect := func(n int) []time.Duration {
		lat := make([]time.Duration, 0, n)
		for range n {
			t0 := time.Now()
			r, err := quiet.StartCase(ctx, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Base"}))
			if err != nil {
				b.Fatal(err)
			}
			w, err := quiet.WaitCase(ctx, connect.NewRequest(&knhkv1.WaitCaseRequest{CaseId: r.Msg.CaseId, TimeoutMs: 10000}))
			if err != nil || w.Msg.Case.ResultJson != "0" {
				b.Fatalf("quiet case: %v %v", w, err)
			}
			lat = append(lat, time.Since(t0))
		}
		return lat
	}
	p99 := func(lat []time.Duration) time.Duration {
		lat = slices.Clone(lat)
		slices.Sort(lat)
		return lat[len(lat)*99/100]
	}
	beside := func(c knhkv1connect.KnhkServiceClient, n int) ([]time.Duration, int) {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		started := 0
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					_, err := c.StartCase(ctx, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Base"}))
					if err == nil {
						mu.Lock()
						started++
						mu.Unlock()
						continue
					}
					wait := 10 * time.Millisecond
					if ce := new(connect.Error); errors.As(err, &ce) {
						if ms, perr := strconv.Atoi(ce.Meta().Get(RetryAfterMsHeader)); perr == nil {
							wait = time.Duration(ms) * time.Millisecond
						}
					}
					time.Sleep(wait)
				}
			}()
		}
		time.Sleep(50 * time.Millisecond)
		lat := collect(n)
		close(stop)
		wg.Wait()
		return lat, started
	}
	setQuota := func(q Quota) {
		reg, _ := Load(f.data)
		reg.Get("acme").Quota = q
		if err := reg.Save(f.data); err != nil {
			b.Fatal(err)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, cn := range f.nodes {
			cn.host.mu.Lock()
			cn.host.regTime = time.Time{}
			cn.host.mu.Unlock()
			if err := cn.host.reload(); err != nil {
				b.Fatal(err)
			}
		}
	}
	ratio := func(x, y time.Duration) float64 { return float64(x) / float64(y) }
	b.ResetTimer()
	for range b.N {
		var even, odd, low, high []time.Duration
		var nLow, nHigh int
		for r := range rounds {
			if r%2 == 0 {
				even = append(even, collect(per)...)
			} else {
				odd = append(odd, collect(per)...)
			}
			setQuota(Quota{Rate: 10, Burst: 2})
			lat, n := beside(noisy, per)
			low, nLow = append(low, lat...), nLow+n
			setQuota(Quota{Rate: 50, Burst: 10})
			lat, n = beside(noisy, per)
			high, nHigh = append(high, lat...), nHigh+n
		}
		alone := p99(append(slices.Clone(even), odd...))
		b.ReportMetric(float64(alone.Microseconds()), "p99-alone-µs")
		b.ReportMetric(ratio(p99(low), alone), "rate10/alone")
		b.ReportMetric(ratio(p99(high), alone), "rate50/alone")
		b.ReportMetric(ratio(p99(even), p99(odd)), "noise")
		b.Logf("cluster: quiet p99 alone %v; beside a neighbour at 10/s %v (%.2fx; it started %d), at 50/s %v (%.2fx; %d); noise floor %.2fx",
			alone, p99(low), ratio(p99(low), alone), nLow, p99(high), ratio(p99(high), alone), nHigh, ratio(p99(even), p99(odd)))
	}
}
