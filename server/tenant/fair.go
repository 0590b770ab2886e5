// This file implements a tenant's bound on its service calls in flight,
// the fairness half of its quota: the rate (quota.go) bounds how many
// calls it makes a second, the gate how many it has the server work on
// at once, so that a burst of its admitted calls cannot take every core
// and disk queue from a quieter tenant.

package tenant

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/knhk/knhk/server/auth"
)

// maxQueued bounds the calls a tenant may have waiting at its gate per
// slot; a call beyond it is refused at once (ResourceExhausted) rather
// than held, so a flood costs neither memory nor goroutines without end.
const maxQueued = 32

// gate admits at most cap(slots) calls at once; waiting calls hold a
// sleeping goroutine, not a core.
type gate struct {
	slots   chan struct{}
	waiting atomic.Int32
	queue   int32
}

// newGate returns the gate of q, nil (no bound) for a tenant without an
// in-flight quota. It is not on by default: the noisy neighbour benchmark
// (quota_test.go) did not show a bound of 2 helping the other tenants
// beside a rate (docs/tenancy.md).
func newGate(q Quota) *gate {
	n := q.InFlight
	if n <= 0 {
		return nil
	}
	return &gate{slots: make(chan struct{}, n), queue: int32(n * maxQueued)}
}

// gated reports whether a call to path passes the gate: service calls
// other than the long polls, which wait for a case and not on the server.
func gated(path string) bool {
	m, ok := strings.CutPrefix(path, auth.ServicePath)
	return ok && m != "WaitCase" && m != "WatchHistory"
}

// enter waits for a slot (or ctx's end) and returns its release.
func (g *gate) enter(ctx context.Context, tenant string) (func(), error) {
	if g == nil {
		return func() {}, nil
	}
	select {
	case g.slots <- struct{}{}:
		return g.leave, nil
	default:
	}
	if g.waiting.Add(1) > g.queue {
		g.waiting.Add(-1)
		return nil, fmt.Errorf("%w in_flight (%d) reached for tenant %s with %d calls waiting: retry later", ErrQuota, cap(g.slots), tenant, g.queue)
	}
	defer g.waiting.Add(-1)
	select {
	case g.slots <- struct{}{}:
		return g.leave, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (g *gate) leave() { <-g.slots }
