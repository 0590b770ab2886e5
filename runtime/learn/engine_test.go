// This file tests the user's path: a .knhk program with a learned route
// goes through the checker and the soundness gate (compiler.Build, as
// knhk run does), runs case after case on the engine with a Policy, and
// the route comes to prefer the candidate that earns more.

package learn

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/host"
)

const shipSrc = `package ship

task ups(n: int) -> int extern
task fedex(n: int) -> int extern

workflow Ship(region: string, n: int) {
  route learn carrier(region, n) among {
    ups(n),
    fedex(n),
  } reward -float(duration / 1s)
}
`

func build(t testing.TB, src string) *ir.Program {
	t.Helper()
	pkg, info, diags := check.CheckSource("ship.knhk", []byte(src), &check.Config{})
	if diags.HasErrors() {
		t.Fatalf("check: %v", diags)
	}
	p, ds := compiler.Build(pkg, info)
	if ds.HasErrors() {
		t.Fatalf("gate: %v", ds)
	}
	return p
}

// fakeClock moves only when a carrier works.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// carriers: in the eu ups takes 2 s and fedex 5 s; elsewhere the other
// way round. A carrier in failing mode fails every call.
type carriers struct {
	clock *fakeClock
	fail  string
}

func (w carriers) Invoke(_ context.Context, inv engine.Invocation) (eval.Value, error) {
	if inv.Task.Name == w.fail {
		return eval.Value{}, fmt.Errorf("%s is down", w.fail)
	}
	return inv.Args[0], nil
}

// timedCarriers wraps carriers and advances the clock by each call's
// duration, which depends on the region the case was started with.
type timedCarriers struct {
	carriers
	region func(caseID string) string
}

func (w timedCarriers) Invoke(ctx context.Context, inv engine.Invocation) (eval.Value, error) {
	fast := "ups"
	if w.region(inv.CaseID) != "eu" {
		fast = "fedex"
	}
	if inv.Task.Name == fast {
		w.clock.advance(2 * time.Second)
	} else {
		w.clock.advance(5 * time.Second)
	}
	return w.carriers.Invoke(ctx, inv)
}

func TestEngineLearnsRoute(t *testing.T) {
	for _, alg := range Algorithms {
		t.Run(string(alg), func(t *testing.T) { engineLearns(t, alg) })
	}
}

// engineLearns runs cases of shipSrc through the engine with a policy
// of algorithm alg, which must learn the faster carrier of each region,
// keep it across a restart and show it in its file's preferences.
func engineLearns(t *testing.T, alg Algorithm) {
	prog := build(t, shipSrc)
	dir := t.TempDir()
	pol, err := Open(prog, Options{Dir: dir, Seed: 3, Config: &Config{Default: RouteConfig{Policy: alg}}})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Unix(1_000_000, 0)}
	regions := map[string]string{}
	var mu sync.Mutex
	w := timedCarriers{carriers: carriers{clock: clock}, region: func(id string) string { mu.Lock(); defer mu.Unlock(); return regions[id] }}
	log := engine.NewMemLog()
	eng, err := engine.New(engine.Config{Program: prog, Eval: &host.Evaluator{}, Worker: w, Log: log, Clock: clock, Policy: pol, Rounds: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	good := 0
	const cases = 200
	for i := range cases {
		id := fmt.Sprintf("c%d", i)
		region := []string{"eu", "us"}[i%2]
		mu.Lock()
		regions[id] = region
		mu.Unlock()
		if err := eng.Start(ctx, id, "Ship", []any{region, int64(3)}); err != nil {
			t.Fatal(err)
		}
		s, _ := eng.Snapshot(id)
		if s.Status != engine.Completed {
			t.Fatalf("case %s: %s %s", id, s.Status, s.Error)
		}
		if err := pol.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		// The choice is in the case's events: which call ran.
		for _, ev := range log.Events(id) {
			if ev.Kind == engine.EvFire && ev.Features != nil && i >= cases-50 {
				want := int32(0)
				if region != "eu" {
					want = 1
				}
				if ev.Choice == want {
					good++
				}
			}
		}
	}
	if good < 45 {
		t.Errorf("the route chose the fast carrier in %d of the last 50 cases, want at least 45", good)
	}
	for _, tc := range []struct {
		region string
		want   int
	}{{"eu", 0}, {"us", 1}} {
		if k, _ := pol.Greedy("carrier", eval.Values(tc.region, int64(3)), nil); k != tc.want {
			t.Errorf("in %s the policy prefers candidate %d, want %d", tc.region, k, tc.want)
		}
	}
	if err := pol.Close(); err != nil {
		t.Fatal(err)
	}
	// The policy survives a restart: a new Policy on the same data
	// directory prefers the same carriers before it learns anything.
	again, err := Open(prog, Options{Dir: dir, Config: &Config{Default: RouteConfig{Policy: alg}}})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	for _, tc := range []struct {
		region string
		want   int
	}{{"eu", 0}, {"us", 1}} {
		if k, _ := again.Greedy("carrier", eval.Values(tc.region, int64(3)), nil); k != tc.want {
			t.Errorf("after a restart in %s the policy prefers candidate %d, want %d", tc.region, k, tc.want)
		}
	}
	f, err := ReadFile(PolicyPath(dir, "carrier"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Updates != cases || f.Curve.Total() != cases {
		t.Errorf("policy file holds %d updates and %d rewards, want %d", f.Updates, f.Curve.Total(), cases)
	}
	// What knhk learn status shows: each region's state picks its
	// faster carrier.
	picks := map[string]string{}
	for _, p := range f.Preferences() {
		picks[p.State] = f.Signature.Candidates[p.Best]
	}
	if picks[`"eu"|(1,3]`] != "ups" || picks[`"us"|(1,3]`] != "fedex" {
		t.Errorf("preferences %v, want ups in the eu and fedex in the us", picks)
	}
}

// TestEngineAvoidsFailingCandidate: a call that fails for good earns
// less than any success, even when rewards are negative (minus the
// duration), so the route learns to avoid a carrier that is down.
func TestEngineAvoidsFailingCandidate(t *testing.T) {
	prog := build(t, shipSrc)
	pol, err := Open(prog, Options{Seed: 5, Config: &Config{Default: RouteConfig{Policy: EpsilonGreedy}}})
	if err != nil {
		t.Fatal(err)
	}
	defer pol.Close()
	clock := &fakeClock{now: time.Unix(1_000_000, 0)}
	w := timedCarriers{carriers: carriers{clock: clock, fail: "ups"}, region: func(string) string { return "eu" }}
	eng, err := engine.New(engine.Config{Program: prog, Eval: &host.Evaluator{}, Worker: w, Log: engine.NewMemLog(), Clock: clock, Policy: pol, Rounds: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	failed := 0
	for i := range 60 {
		id := fmt.Sprintf("c%d", i)
		if err := eng.Start(ctx, id, "Ship", []any{"eu", int64(1)}); err != nil {
			t.Fatal(err)
		}
		if s, _ := eng.Snapshot(id); s.Status == engine.Failed {
			failed++
		}
		pol.Flush(ctx)
	}
	// ups is the faster carrier in the eu, but it is down.
	if k, _ := pol.Greedy("carrier", eval.Values("eu", int64(1)), nil); k != 1 {
		t.Errorf("the policy prefers candidate %d, want 1 (fedex): ups always fails", k)
	}
	if failed > 15 {
		t.Errorf("%d of 60 cases failed: the policy did not learn to avoid the failing carrier", failed)
	}
}

// refusePolicy fails the test if the engine asks it anything.
type refusePolicy struct{ t *testing.T }

func (p refusePolicy) Choose(context.Context, string, []eval.Value, int) (int, error) {
	p.t.Error("recovery asked the policy for a choice")
	return 0, fmt.Errorf("no")
}

// TestRecoveryNeverAsksPolicy: a case recovered from its log takes the
// choice recorded in its events, whatever the policy would say now.
func TestRecoveryNeverAsksPolicy(t *testing.T) {
	prog := build(t, shipSrc)
	pol, err := Open(prog, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer pol.Close()
	clock := &fakeClock{now: time.Unix(1_000_000, 0)}
	w := timedCarriers{carriers: carriers{clock: clock}, region: func(string) string { return "us" }}
	log := engine.NewMemLog()
	eng, err := engine.New(engine.Config{Program: prog, Eval: &host.Evaluator{}, Worker: w, Log: log, Clock: clock, Policy: pol, Rounds: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := eng.Start(ctx, "c", "Ship", []any{"us", int64(2)}); err != nil {
		t.Fatal(err)
	}
	before, _ := eng.Snapshot("c")
	again, err := engine.New(engine.Config{Program: prog, Eval: &host.Evaluator{}, Worker: w, Log: log, Clock: clock, Policy: refusePolicy{t}, Rounds: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Recover(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	after, _ := again.Snapshot("c")
	if after.Status != before.Status || after.Status != engine.Completed {
		t.Errorf("recovered status %s, before %s", after.Status, before.Status)
	}
}
