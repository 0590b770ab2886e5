package tenant

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/server/auth"
)

// testShare is a share whose pressing calls wait for as long as a test
// needs (no maxYield), with procs threads.
func testShare(procs int) *share {
	s := newShare(time.Now)
	s.procs, s.yield = procs, time.Hour
	return s
}

// enterAsync enters a call of tenant in the background; its end comes
// on the channel once it is taken up.
func enterAsync(t *testing.T, s *share, ctx context.Context, tenant string) chan func() {
	t.Helper()
	c := make(chan func(), 1)
	go func() {
		leave, err := s.enter(ctx, tenant)
		if err != nil {
			if ctx.Err() == nil {
				t.Error(err)
			}
			close(c)
			return
		}
		c <- leave
	}()
	return c
}

// waitFor waits until cond holds (a condition, never a guessed sleep).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

func (s *share) waitingCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.waiting)
}

// taken reports whether c's call was taken up (without waiting).
func taken(c chan func()) bool {
	select {
	case leave := <-c:
		c <- leave
		return true
	default:
		return false
	}
}

// TestShareOrder: a call of a tenant refused for its limit waits for the
// call of another tenant in progress when it came, not for one that
// came after it (so a stream of the other's calls never starves it); a
// tenant never waits for its own calls; a tenant within its limits
// never waits at all.
func TestShareOrder(t *testing.T) {
	s := testShare(2)
	ctx := context.Background()
	a, err := s.enter(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	s.refused("acme")
	// Pressing, but its own calls never hold it.
	own, err := s.enter(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	own()
	a()
	// Not pressing: beta goes at once beside acme.
	beta1, err := s.enter(ctx, "beta")
	if err != nil {
		t.Fatal(err)
	}
	acme := enterAsync(t, s, ctx, "acme")
	waitFor(t, "acme's pressing call waits for beta's", func() bool { return s.waitingCalls() == 1 })
	// Beta is within its limits: its new calls go at once, and do not
	// hold acme's, which came before them.
	beta2, err := s.enter(ctx, "beta")
	if err != nil {
		t.Fatal(err)
	}
	if taken(acme) {
		t.Fatal("acme's call was taken up while beta's call before it was in progress")
	}
	beta1()
	waitFor(t, "acme's call taken up once the call it came after ended", func() bool { return taken(acme) })
	(<-acme)()
	beta2()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, beta := s.tenants["beta"]; len(s.light) != 0 || len(s.waiting) != 0 || beta || s.tenants["acme"].calls != 0 {
		t.Fatalf("left over: light %v waiting %d tenants %v", s.light, len(s.waiting), s.tenants)
	}
}

// TestShareBusy: a tenant with more calls in progress than the server
// has threads presses as one refused does, and a tenant alone, however
// many its calls, never waits.
func TestShareBusy(t *testing.T) {
	s := testShare(2)
	ctx := context.Background()
	var leaves []func()
	for range 5 { // alone: never held
		l, err := s.enter(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		leaves = append(leaves, l)
	}
	for _, l := range leaves {
		l()
	}
	a1, _ := s.enter(ctx, "acme")
	a2, _ := s.enter(ctx, "acme")
	beta, _ := s.enter(ctx, "beta")
	third := enterAsync(t, s, ctx, "acme")
	waitFor(t, "acme's third call (2 threads) waits for beta's", func() bool { return s.waitingCalls() == 1 })
	beta()
	waitFor(t, "acme's third call taken up", func() bool { return taken(third) })
	(<-third)()
	a1()
	a2()
}

// TestShareCancel: a call given up while it waits leaves nothing behind,
// and one held past maxYield is taken up.
func TestShareCancel(t *testing.T) {
	s := testShare(2)
	beta, _ := s.enter(context.Background(), "beta")
	s.refused("acme")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := s.enter(ctx, "acme")
		done <- err
	}()
	waitFor(t, "acme's call waits", func() bool { return s.waitingCalls() == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("a call given up: %v", err)
	}
	s.mu.Lock()
	if len(s.waiting) != 0 || s.tenants["acme"].calls != 0 {
		t.Fatalf("left over: waiting %d, acme's calls %d", len(s.waiting), s.tenants["acme"].calls)
	}
	s.mu.Unlock()
	s.yield = time.Millisecond // beta's call runs long
	l, err := s.enter(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	l()
	beta()
	for path, want := range map[string]bool{
		auth.ServicePath + "StartCase":            true,
		auth.ServicePath + "Deploy":               true,
		auth.ServicePath + "WaitCase":             false,
		auth.ServicePath + "WatchHistory":         false,
		auth.ServicePath + "PollTask":             false,
		auth.ServicePath + "CompleteAndPollTasks": false,
		auth.ServicePath + "WorkTasks":            false,
		"/console/api/cases":                      false,
	} {
		if shared(path) != want {
			t.Errorf("shared(%s) = %v", path, !want)
		}
	}
	var nilShare *share
	if l, err := nilShare.enter(context.Background(), "acme"); err != nil {
		t.Fatal(err)
	} else {
		l()
	}
	nilShare.refused("acme")
}

// TestShareRace runs many tenants' calls, pressing or not, some given up,
// at once (go test -race), and checks every one is taken up or given up
// and nothing is left over.
func TestShareRace(t *testing.T) {
	s := newShare(time.Now)
	s.procs = 2
	var wg sync.WaitGroup
	tenants := []string{"a", "b", "c", "d"}
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range 300 {
				tn := tenants[rng.IntN(len(tenants))]
				if rng.IntN(5) == 0 {
					s.refused(tn)
				}
				ctx, cancel := context.WithCancel(context.Background())
				if rng.IntN(4) == 0 {
					cancel()
				}
				leave, err := s.enter(ctx, tn)
				if err == nil {
					if rng.IntN(3) == 0 {
						runtime.Gosched()
					}
					leave()
				} else if !errors.Is(err, context.Canceled) {
					t.Error(err)
				}
				cancel()
			}
		}()
	}
	wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.light) != 0 || len(s.waiting) != 0 {
		t.Fatalf("left over: light %v, waiting %d", s.light, len(s.waiting))
	}
	for id, tn := range s.tenants {
		if tn.calls != 0 {
			t.Fatalf("tenant %s has %d calls left", id, tn.calls)
		}
	}
}

// TestHostShare walks the user's path: tenant acme, refused for its rate
// through the server, has its next call wait for beta's call that was
// in progress, and taken up once that ends; beta's calls never wait.
func TestHostShare(t *testing.T) {
	f := newFixture(t, map[string]Quota{"acme": {Rate: 10, Burst: 1}})
	f.host.share.yield = time.Hour
	acme := f.client(f.priv(auth.Principal{Subject: "a", Tenant: "acme", Role: auth.RoleAdmin}))
	beta := f.client(f.priv(auth.Principal{Subject: "b", Tenant: "beta", Role: auth.RoleAdmin}))
	deployTest(t, acme)
	deployTest(t, beta)
	ctx := context.Background()
	start := func(c interface {
		StartCase(context.Context, *connect.Request[knhkv1.StartCaseRequest]) (*connect.Response[knhkv1.StartCaseResponse], error)
	}) error {
		_, err := c.StartCase(ctx, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Inc", InputJson: "1"}))
		return err
	}
	// acme at its rate: refused until a token comes.
	refused := false
	for !refused {
		err := start(acme)
		var ce *connect.Error
		refused = errors.As(err, &ce) && ce.Code() == connect.CodeResourceExhausted
		if err != nil && !refused {
			t.Fatal(err)
		}
	}
	// Beta's call in progress (held in the share as a call being served).
	inBeta, err := f.host.share.enter(ctx, "beta")
	if err != nil {
		t.Fatal(err)
	}
	if err := start(beta); err != nil { // beta itself never waits
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		var err error
		for {
			err = start(acme)
			var ce *connect.Error
			if !errors.As(err, &ce) || ce.Code() != connect.CodeResourceExhausted {
				break
			}
			time.Sleep(time.Duration(10) * time.Millisecond) // its next token
		}
		done <- err
	}()
	waitFor(t, "acme's admitted call waits for beta's", func() bool { return f.host.share.waitingCalls() == 1 })
	select {
	case err := <-done:
		t.Fatalf("acme's call answered (%v) while beta's was in progress", err)
	default:
	}
	inBeta()
	if err := <-done; err != nil {
		t.Fatalf("acme's call once beta's ended: %v", err)
	}
}
