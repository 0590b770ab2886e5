// This file implements the host's sharing of the server between
// tenants: a call of a tenant at its limit yields to the calls of
// tenants within theirs that were already being served when it came.
//
// Why this and not fair queueing by use: the rate (quota.go) and the
// in-flight bound (fair.go) bound what a tenant asks of the server, and
// a tenant within them is never made to wait for another. What is left
// is the order in which the server takes up two tenants' calls that
// meet. A share by volume (start-time fair queueing, deficit round robin
// over the calls or their time) would favour the wrong one: the noisy
// neighbour benchmark's quiet tenant makes 15-70 times the calls of the
// neighbour held to 10 or 50 a second, so by use it is the heavy one. So
// the host tells them apart by limit instead: a tenant is pressing when
// its rate or in-flight bound refused it in the last pressWindow (its
// clients want more than its quota) or when it has more calls in
// progress than the server has threads (GOMAXPROCS), as a tenant without
// a quota flooding the server has. A pressing tenant's call waits until
// the calls of the other tenants that were in progress when it came have
// ended, or maxYield, whichever is first; calls that come later do not
// hold it, so it is never starved, and a tenant never waits for its own
// calls (a tenant alone never waits).
//
// What it does not do, measured: it holds about 40% of a neighbour's
// starts at 50/s, for about one quiet call each, and the quiet tenant's
// p99 does not move beyond the noise (docs/tenancy.md, "Where the quiet
// tenant's tail comes from now"): against a client that always has a
// call in progress, an order of calls moves an overlap, it does not
// remove it.

package tenant

import (
	"cmp"
	"context"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/knhk/knhk/server/auth"
)

// shared reports whether a call to path is taken up in the share: the
// service calls that work on the server and end, not those that wait (a
// long poll for a case, a history or a task, a worker's stream), which
// would hold a pressing tenant's calls for nothing.
func shared(path string) bool {
	m, ok := strings.CutPrefix(path, auth.ServicePath)
	if !ok {
		return false
	}
	switch m {
	case "WaitCase", "WatchHistory", "PollTask", "CompleteAndPollTask", "CompleteAndPollTasks", "WorkTasks":
		return false
	}
	return true
}

// pressWindow is how long a refusal marks its tenant as pressing: a
// tenant at its rate whose clients honour the retry hint is refused at
// least once a turn (1/rate).
const pressWindow = time.Second

// maxYield bounds how long a pressing tenant's call waits for others:
// a call of another tenant that runs long (a deploy compiling, a disk
// stalled) holds it no longer than this.
const maxYield = 20 * time.Millisecond

// share orders the calls of tenants pressing against their limits after
// the calls of the others (the file comment). Its zero value is not
// usable: see newShare.
type share struct {
	procs int
	now   func() time.Time
	yield time.Duration // maxYield; tests wait longer

	mu      sync.Mutex
	seq     uint64      // the calls of non-pressing tenants entered so far
	light   []lightCall // those in progress, by seq
	waiting []*yielder
	tenants map[string]sharer // by value: no allocation per call
	// held and heldFor count the calls that waited and how long, for
	// the noisy neighbour benchmark.
	held, heldFor atomic.Int64
	// off takes every call up at once, as a nil share: a benchmark
	// compares one server with and without it.
	off atomic.Bool
}

// sharer is a tenant's state in the share.
type sharer struct {
	calls   int       // in progress, its waiting ones included
	refused time.Time // its last refusal for its limit
}

// lightCall is a call of a tenant that was not pressing when it came.
type lightCall struct {
	seq    uint64
	tenant string
}

// yielder is a pressing call of tenant waiting for the other tenants'
// calls in progress when it came: those with a seq of at most upto.
type yielder struct {
	tenant string
	upto   uint64
	ready  chan struct{}
}

// holds reports whether a light call in progress holds y.
func (s *share) holds(y *yielder) bool {
	for _, c := range s.light {
		if c.seq > y.upto {
			return false
		}
		if c.tenant != y.tenant {
			return true
		}
	}
	return false
}

func newShare(now func() time.Time) *share {
	return &share{procs: runtime.GOMAXPROCS(0), now: now, yield: maxYield, tenants: map[string]sharer{}}
}

// refused notes that tenant's limit refused one of its calls.
func (s *share) refused(tenant string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	t := s.tenants[tenant]
	t.refused = s.now()
	s.tenants[tenant] = t
	s.mu.Unlock()
}

// enter takes up a call of tenant, once the calls it yields to have
// ended (or ctx's end, whose error it returns), and returns its end. A
// nil share takes up every call at once.
func (s *share) enter(ctx context.Context, tenant string) (func(), error) {
	if s == nil || s.off.Load() {
		return func() {}, nil
	}
	s.mu.Lock()
	t := s.tenants[tenant]
	t.calls++
	s.tenants[tenant] = t
	if t.calls <= s.procs && s.now().Sub(t.refused) >= pressWindow {
		s.seq++
		n := s.seq
		s.light = append(s.light, lightCall{n, tenant})
		s.mu.Unlock()
		return func() { s.leave(tenant, n) }, nil
	}
	y := &yielder{tenant: tenant, upto: s.seq, ready: make(chan struct{})}
	if !s.holds(y) {
		s.mu.Unlock()
		return func() { s.leave(tenant, 0) }, nil
	}
	s.waiting = append(s.waiting, y)
	s.mu.Unlock()
	timer := time.NewTimer(s.yield)
	defer timer.Stop()
	t0 := time.Now()
	defer func() {
		s.held.Add(1)
		s.heldFor.Add(int64(time.Since(t0)))
	}()
	select {
	case <-y.ready:
	case <-timer.C:
		s.drop(y)
	case <-ctx.Done():
		s.drop(y)
		s.leave(tenant, 0)
		return nil, ctx.Err()
	}
	return func() { s.leave(tenant, 0) }, nil
}

// drop takes y out of the waiting calls (it stopped waiting).
func (s *share) drop(y *yielder) {
	s.mu.Lock()
	if i := slices.Index(s.waiting, y); i >= 0 {
		s.waiting = slices.Delete(s.waiting, i, i+1)
	}
	s.mu.Unlock()
}

// leave ends a call of tenant, the call numbered n when it was not
// pressing, and lets go the waiting calls that no call in progress
// holds any more.
func (s *share) leave(tenant string, n uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tenants[tenant]; ok {
		if t.calls--; t.calls == 0 && s.now().Sub(t.refused) >= pressWindow {
			delete(s.tenants, tenant) // nothing to remember
		} else {
			s.tenants[tenant] = t
		}
	}
	if n == 0 {
		return
	}
	if i, ok := slices.BinarySearchFunc(s.light, n, func(c lightCall, n uint64) int { return cmp.Compare(c.seq, n) }); ok {
		s.light = slices.Delete(s.light, i, i+1)
	}
	s.waiting = slices.DeleteFunc(s.waiting, func(y *yielder) bool {
		if !s.holds(y) {
			close(y.ready)
			return true
		}
		return false
	})
}

// counts returns how many calls waited in the share and how long in
// all (0 for a nil share).
func (s *share) counts() (int64, time.Duration) {
	if s == nil {
		return 0, 0
	}
	return s.held.Load(), time.Duration(s.heldFor.Load())
}
