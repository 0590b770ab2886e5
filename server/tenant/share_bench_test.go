package tenant

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/knhk/knhk/internal/benchways"
	"github.com/knhk/knhk/server/auth"
)

// BenchmarkShareSingleTenant measures what the share (share.go) costs a
// tenant alone: one case start to result through one server with the
// share on and off, interleaved in rounds (internal/benchways);
// "with/without" is the ratio of medians, and "without'/without" the
// share off again after "with" in each round: the floor that ratio is
// read against (a way that follows another in a round may pay for its
// work still going on).
// A case at a time, and 8 at once (each sample the time of 8 cases
// started together to their results): a tenant alone with more calls
// than threads presses, but has nobody to wait for.
//
//	go test ./server/tenant -run XXX -bench ShareSingleTenant -benchtime 400x -count 3
func BenchmarkShareSingleTenant(b *testing.B) {
	f := newFixture(b, nil)
	c := ownClient(f.url, f.priv(auth.Principal{Subject: "q", Tenant: "beta", Role: auth.RoleAdmin}), 16)
	deployTest(b, c)
	run := quietCase(b, c, "Inc", "1", "2")
	for _, n := range []int{1, 8} {
		b.Run(map[int]string{1: "one", 8: "eight"}[n], func(b *testing.B) {
			benchways.Run(b, []string{"without", "with", "without'"}, "without", time.Millisecond, "ms", func(way string) time.Duration {
				f.host.share.off.Store(way != "with")
				t0 := time.Now()
				var wg sync.WaitGroup
				for range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						run()
					}()
				}
				wg.Wait()
				return time.Since(t0)
			})
		})
	}
}

// BenchmarkShareEnter is the share's own cost per call of a tenant
// alone, from goroutines at once (the lock all calls take).
func BenchmarkShareEnter(b *testing.B) {
	s := newShare(time.Now)
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			leave, err := s.enter(ctx, "beta")
			if err != nil {
				b.Fatal(err)
			}
			leave()
		}
	})
}
