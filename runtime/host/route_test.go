// This file tests learned routes end to end: the policy's choice runs,
// and when it ends its reward is in the log and reaches a learning
// policy with the features it chose from.

package host

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

// learner chooses candidate pick and records what it learns.
type learner struct {
	pick int
	mu   sync.Mutex
	got  []lesson
}

type lesson struct {
	route    string
	features []eval.Value
	choice   int
	reward   float64
	ok       bool
}

func (l *learner) Choose(_ context.Context, route string, features []eval.Value, n int) (int, error) {
	return l.pick, nil
}

func (l *learner) Learn(route string, features []eval.Value, choice int, reward float64, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, lesson{route, features, choice, reward, ok})
}

// carriers answers ups after 3 seconds of the case's clock and fails
// fedex.
type carriers struct{ clock *stepClock }

func (w carriers) Invoke(_ context.Context, inv engine.Invocation) (eval.Value, error) {
	if inv.Task.Name == "fedex" {
		return eval.Value{}, errors.New("no pickup today")
	}
	w.clock.advance(3 * time.Second)
	return inv.Args[0], nil
}

// stepClock is a clock that moves only when told to.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *stepClock) advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

const routeSrc = `package t
task ups(n: int) -> int extern
task fedex(n: int) -> int extern
workflow Ship(region: string, n: int) {
  route learn carrier(region, n) among {
    ups(n),
    fedex(n),
  } reward 10.0 - float(duration / 1s)
}
`

func TestRouteReward(t *testing.T) {
	for _, live := range []bool{false, true} {
		for _, tc := range []struct {
			pick   int
			ok     bool
			status engine.Status
		}{{0, true, engine.Completed}, {1, false, engine.Failed}} {
			l := &learner{pick: tc.pick}
			log := engine.NewMemLog()
			clock := &stepClock{now: time.Unix(1_000_000, 0)}
			e, err := engine.New(engine.Config{Program: compile(t, routeSrc), Eval: &Evaluator{}, Worker: carriers{clock}, Log: log, Policy: l, Rounds: !live, Clock: clock})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Start(context.Background(), "c", "Ship", []any{"eu", int64(3)}); err != nil {
				t.Fatal(err)
			}
			s, _ := e.Snapshot("c")
			if s.Status != tc.status {
				t.Fatalf("live=%v pick %d: status %s (%s), want %s", live, tc.pick, s.Status, s.Error, tc.status)
			}
			if len(l.got) != 1 {
				t.Fatalf("live=%v pick %d: learned %d times, want once: %+v", live, tc.pick, len(l.got), l.got)
			}
			g := l.got[0]
			if g.route != "carrier" || len(g.features) != 2 || g.features[0] != eval.Str("eu") || g.features[1] != eval.Int(3) || g.choice != tc.pick || g.ok != tc.ok {
				t.Errorf("live=%v: learned %+v", live, g)
			}
			// A success earns 10 minus the seconds the call took (3 on
			// the case's clock); a failure earns 0.
			if tc.ok && g.reward != 7 || !tc.ok && g.reward != 0 {
				t.Errorf("live=%v pick %d: reward %v", live, tc.pick, g.reward)
			}
			// The outcome is in the log with its reward.
			var ended *engine.Event
			for _, ev := range log.Events("c") {
				if ev.Rewarded {
					ev := ev
					ended = &ev
				}
			}
			if ended == nil || ended.Reward != g.reward {
				t.Errorf("live=%v pick %d: no event in the log with reward %v", live, tc.pick, g.reward)
			}
		}
	}
}
