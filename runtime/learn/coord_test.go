// This file tests the coordination of routes that share a resource: two
// workflows route to the same two services, each service slower the
// more calls it is running. Routes that see each other's load learn to
// split the work; routes that do not keep piling onto whichever service
// looked fastest.

package learn

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/knhk/knhk/runtime/eval"
)

const sharedSrc = `package shared

task s1(n: int) -> int extern
task s2(n: int) -> int extern

workflow A(n: int) {
  route learn a(n) among { s1(n), s2(n) } reward -float(duration / 1s)
}

workflow B(n: int) {
  route learn b(n) among { s1(n), s2(n) } reward -float(duration / 1s)
}
`

// loadSim runs rounds of one to six concurrent decisions, each of a
// route drawn at random: a call on s1 takes 1 s per call running on
// s1, one on s2 1.5 s per call on s2. It returns the mean seconds per
// call over the last half.
func loadSim(t *testing.T, coordinate bool, seed uint64) float64 {
	c := coordinate
	p, err := Open(build(t, sharedSrc), Options{Seed: seed, Config: &Config{Default: RouteConfig{Policy: EpsilonGreedy, Coordinate: &c}}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, r := range []string{"a", "b"} {
		if p.routes[r].coordinate != coordinate {
			t.Fatalf("route %s coordinated: %v, want %v", r, p.routes[r].coordinate, coordinate)
		}
	}
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 5))
	const rounds = 4000
	var total, calls float64
	for i := range rounds {
		routes := make([]string, 1+rng.IntN(6))
		for j := range routes {
			routes[j] = []string{"a", "b"}[rng.IntN(2)]
		}
		f := []any{int64(1)}
		picks := make([]int, len(routes))
		var on [2]int
		for j, r := range routes {
			picks[j], _ = p.Choose(ctx, r, eval.Values(f...), 2)
			on[picks[j]]++
		}
		for j, r := range routes {
			d := float64(on[picks[j]]) * []float64{1, 1.5}[picks[j]]
			p.Learn(r, eval.Values(f...), picks[j], -d, true)
			if i >= rounds/2 {
				total += d
				calls++
			}
		}
		p.Flush(ctx)
	}
	return total / calls
}

func TestCoordinatedRoutesSplitLoad(t *testing.T) {
	// The routes share s1 and s2, so Open coordinates them by default.
	p, err := Open(build(t, sharedSrc), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !p.routes["a"].coordinate || !p.routes["b"].coordinate {
		t.Error("routes sharing their tasks are not coordinated by default")
	}
	p.Close()
	// The best split of m calls, m = 1..6 equally likely, in seconds
	// per call: 56 s over 21 calls.
	var best, calls float64
	for m := 1; m <= 6; m++ {
		b := 1e9
		for k := 0; k <= m; k++ {
			b = min(b, float64(k*k)+1.5*float64((m-k)*(m-k)))
		}
		best += b
		calls += float64(m)
	}
	best /= calls
	for seed := uint64(1); seed <= 3; seed++ {
		with, without := loadSim(t, true, seed), loadSim(t, false, seed)
		t.Logf("seed %d: %.2f s per call coordinated, %.2f s not", seed, with, without)
		if with > 1.1*best || with > 0.85*without {
			t.Errorf("seed %d: coordinated routes take %.2f s per call (best %.2f), uncoordinated %.2f", seed, with, best, without)
		}
	}
}
