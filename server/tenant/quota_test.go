package tenant

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/auth"
)

func deployTest(t testing.TB, c knhkv1connect.KnhkServiceClient) {
	t.Helper()
	if _, err := c.Deploy(context.Background(), connect.NewRequest(&knhkv1.DeployRequest{Name: "two.knhk", Source: testSrc})); err != nil {
		t.Fatal(err)
	}
}

// TestRateLimit: a tenant past its rate is refused with
// resource_exhausted naming the tenant and when to retry; another tenant
// is not.
func TestRateLimit(t *testing.T) {
	f := newFixture(t, map[string]Quota{"acme": {Rate: 0.5, Burst: 3}})
	acme := f.client(f.priv(auth.Principal{Subject: "a", Tenant: "acme", Role: auth.RoleAdmin}))
	beta := f.client(f.priv(auth.Principal{Subject: "b", Tenant: "beta", Role: auth.RoleAdmin}))
	ctx := context.Background()
	var refused error
	n := 0
	for ; n < 10; n++ {
		if _, err := acme.ListCases(ctx, connect.NewRequest(&knhkv1.ListCasesRequest{})); err != nil {
			refused = err
			break
		}
	}
	if n != 3 || connect.CodeOf(refused) != connect.CodeResourceExhausted || !strings.Contains(refused.Error(), "tenant quota rate for tenant acme exceeded: retry in") {
		t.Fatalf("after %d calls: %v, want the 4th refused for its rate", n, refused)
	}
	for i := 0; i < 10; i++ {
		if _, err := beta.ListCases(ctx, connect.NewRequest(&knhkv1.ListCasesRequest{})); err != nil {
			t.Fatalf("beta's call %d: %v", i, err)
		}
	}
}

// TestMaxRunning: a tenant at its running-case cap has further starts
// refused, naming the cap; once a case ends it may start again; another
// tenant starts freely meanwhile.
func TestMaxRunning(t *testing.T) {
	f := newFixture(t, map[string]Quota{"acme": {MaxRunning: 2}})
	acme := f.client(f.priv(auth.Principal{Subject: "a", Tenant: "acme", Role: auth.RoleAdmin}))
	beta := f.client(f.priv(auth.Principal{Subject: "b", Tenant: "beta", Role: auth.RoleAdmin}))
	deployTest(t, acme)
	deployTest(t, beta)
	ctx := context.Background()
	hold := func(c knhkv1connect.KnhkServiceClient) (string, error) {
		r, err := c.StartCase(ctx, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Hold", InputJson: `"x"`}))
		if err != nil {
			return "", err
		}
		return r.Msg.CaseId, nil
	}
	first, err := hold(acme)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hold(acme); err != nil {
		t.Fatal(err)
	}
	_, err = hold(acme)
	if err == nil || !strings.Contains(err.Error(), "max_running (2) reached for tenant acme") {
		t.Fatalf("third start: %v", err)
	}
	for i := 0; i < 5; i++ {
		if _, err := hold(beta); err != nil {
			t.Fatalf("beta's start %d: %v", i, err)
		}
	}
	if _, err := acme.SignalCase(ctx, connect.NewRequest(&knhkv1.SignalCaseRequest{CaseId: first, Name: "Approve", PayloadJson: `{"by":"me"}`})); err != nil {
		t.Fatal(err)
	}
	if _, err := hold(acme); err != nil {
		t.Fatalf("a start after a case ended: %v", err)
	}
}

// BenchmarkNoisyNeighbour measures tenant quiet's p99 start-to-result
// latency (StartCase then WaitCase over HTTP) alone and beside tenant
// noisy starting cases from 8 goroutines as fast as it may: limited by
// its quota (rate 10/s; then 50/s with in_flight 2, fair.go; 20
// running; the clients honour the retry hint), at 50/s and in_flight 2
// but flooding refused calls, at 50/s without a bound on its calls in
// flight, and, for comparison, without a quota. The conditions alternate in 40 rounds
// of 20 cases each, so that the load of whatever else runs on the
// machine falls on all of them alike; the p99 of each condition is over
// its 800 cases. The ratio of the alone p99 of the even rounds to that
// of the odd ones is the noise floor.
func BenchmarkNoisyNeighbour(b *testing.B) {
	const rounds, per = 40, 20
	f := newFixture(b, map[string]Quota{"acme": {Rate: 50, Burst: 10, MaxRunning: 20}})
	quiet := f.client(f.priv(auth.Principal{Subject: "q", Tenant: "beta", Role: auth.RoleAdmin}))
	noisy := f.client(f.priv(auth.Principal{Subject: "n", Tenant: "acme", Role: auth.RoleAdmin}))
	// The unlimited neighbour is the default tenant (no quota).
	wild := f.client("static-token")
	deployTest(b, quiet)
	deployTest(b, wild)
	// The limited tenant deploys before its bucket matters.
	deployTest(b, noisy)
	ctx := context.Background()
	collect := func(n int) []time.Duration {
		lat := make([]time.Duration, 0, n)
		for i := 0; i < n; i++ {
			t0 := time.Now()
			r, err := quiet.StartCase(ctx, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Inc", InputJson: "1"}))
			if err != nil {
				b.Fatal(err)
			}
			w, err := quiet.WaitCase(ctx, connect.NewRequest(&knhkv1.WaitCaseRequest{CaseId: r.Msg.CaseId, TimeoutMs: 10000}))
			if err != nil || w.Msg.Case.ResultJson != "2" {
				b.Fatalf("quiet case: %v %v", w, err)
			}
			lat = append(lat, time.Since(t0))
		}
		return lat
	}
	p99 := func(lat []time.Duration) time.Duration {
		lat = append([]time.Duration(nil), lat...)
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		return lat[len(lat)*99/100]
	}
	lastRefused := 0 // the refused calls of the last beside
	beside := func(c knhkv1connect.KnhkServiceClient, honour bool, n int) ([]time.Duration, int) {
		refused := 0
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		started := 0
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					_, err := c.StartCase(ctx, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Inc", InputJson: "1"}))
					if err == nil {
						mu.Lock()
						started++
						mu.Unlock()
					} else if connect.CodeOf(err) == connect.CodeResourceExhausted {
						mu.Lock()
						refused++
						mu.Unlock()
						wait := time.Millisecond // a flood that barely backs off
						if ce := new(connect.Error); honour && errors.As(err, &ce) {
							if ms, perr := strconv.Atoi(ce.Meta().Get(RetryAfterMsHeader)); perr == nil {
								wait = time.Duration(ms) * time.Millisecond
							}
						}
						time.Sleep(wait)
					}
				}
			}()
		}
		time.Sleep(50 * time.Millisecond)
		lat := collect(n)
		close(stop)
		wg.Wait()
		lastRefused = refused
		return lat, started
	}
	setQuota := func(q Quota) {
		reg, _ := Load(f.data)
		reg.Get("acme").Quota = q
		if err := reg.Save(f.data); err != nil {
			b.Fatal(err)
		}
		f.host.mu.Lock()
		f.host.regTime = time.Time{}
		f.host.mu.Unlock()
		if err := f.host.reload(); err != nil {
			b.Fatal(err)
		}
	}
	ratio := func(x, y time.Duration) float64 { return float64(x) / float64(y) }
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var even, odd, low, limited, flood, ungated, unl []time.Duration
		var nLow, nLimited, nFlood, nUngated, nUnl int
		var rFlood, rUngated int // refused calls
		for r := 0; r < rounds; r++ {
			if r%2 == 0 {
				even = append(even, collect(per)...)
			} else {
				odd = append(odd, collect(per)...)
			}
			setQuota(Quota{Rate: 10, Burst: 2, MaxRunning: 20})
			lat, n := beside(noisy, true, per)
			low, nLow = append(low, lat...), nLow+n
			setQuota(Quota{Rate: 50, Burst: 10, MaxRunning: 20, InFlight: 2})
			lat, n = beside(noisy, true, per)
			limited, nLimited = append(limited, lat...), nLimited+n
			lat, n = beside(noisy, false, per)
			flood, nFlood, rFlood = append(flood, lat...), nFlood+n, rFlood+lastRefused
			f.host.mu.Lock()
			acme := f.host.open["acme"]
			f.host.mu.Unlock()
			acme.mu.Lock()
			// No bound on its calls in flight, and a full burst, as the
			// other conditions get.
			acme.gate = nil
			acme.bucket = newBucket(acme.quota, time.Now())
			acme.mu.Unlock()
			lat, n = beside(noisy, true, per)
			ungated, nUngated, rUngated = append(ungated, lat...), nUngated+n, rUngated+lastRefused
			lat, n = beside(wild, true, per)
			unl, nUnl = append(unl, lat...), nUnl+n
		}
		alone := p99(append(append([]time.Duration(nil), even...), odd...))
		b.ReportMetric(float64(alone.Microseconds()), "p99-alone-µs")
		b.ReportMetric(ratio(p99(low), alone), "limited10/alone")
		b.ReportMetric(ratio(p99(limited), alone), "inflight2/alone")
		b.ReportMetric(ratio(p99(flood), alone), "flood/alone")
		b.ReportMetric(ratio(p99(ungated), alone), "rate50/alone")
		b.ReportMetric(ratio(p99(unl), alone), "unlimited/alone")
		b.ReportMetric(ratio(p99(even), p99(odd)), "noise")
		b.ReportMetric(float64(rUngated)/float64(max(nUngated, 1)), "refused/started-rate50")
		b.ReportMetric(float64(rFlood)/float64(max(nFlood, 1)), "refused/started-flood")
		b.Logf("quiet p99 alone %v; beside a neighbour at 10/s %v (%.2fx; it started %d), at 50/s in_flight 2 %v (%.2fx; %d), "+
			"at 50/s in_flight 2 flooding refused calls %v (%.2fx; %d), at 50/s %v (%.2fx; %d), without a quota %v (%.2fx; %d); noise floor (alone, even/odd rounds) %.2fx",
			alone, p99(low), ratio(p99(low), alone), nLow, p99(limited), ratio(p99(limited), alone), nLimited,
			p99(flood), ratio(p99(flood), alone), nFlood, p99(ungated), ratio(p99(ungated), alone), nUngated, p99(unl), ratio(p99(unl), alone), nUnl, ratio(p99(even), p99(odd)))
	}
}

// TestQuotaChange: a quota changed in the registry applies to the open
// tenant at the next reload: a cap where there was none, then none again.
func TestQuotaChange(t *testing.T) {
	f := newFixture(t, nil)
	acme := f.client(f.priv(auth.Principal{Subject: "a", Tenant: "acme", Role: auth.RoleAdmin}))
	deployTest(t, acme)
	ctx := context.Background()
	hold := func() error {
		_, err := acme.StartCase(ctx, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Hold", InputJson: `"x"`}))
		return err
	}
	for i := 0; i < 3; i++ {
		if err := hold(); err != nil {
			t.Fatal(err)
		}
	}
	setQuota := func(q Quota) {
		reg, _ := Load(f.data)
		reg.Get("acme").Quota = q
		if err := reg.Save(f.data); err != nil {
			t.Fatal(err)
		}
		f.host.mu.Lock()
		f.host.regTime = time.Time{}
		f.host.mu.Unlock()
		if err := f.host.reload(); err != nil {
			t.Fatal(err)
		}
	}
	setQuota(Quota{MaxRunning: 4})
	if err := hold(); err != nil {
		t.Fatalf("the 4th running case: %v", err)
	}
	if err := hold(); err == nil || !strings.Contains(err.Error(), "max_running (4) reached") {
		t.Fatalf("the 5th: %v", err)
	}
	setQuota(Quota{})
	if err := hold(); err != nil {
		t.Fatalf("no cap: %v", err)
	}
}

// TestOpenAtStart: a tenant's cases go on after a restart without a call
// for them: the timer of a case started before it fires.
func TestOpenAtStart(t *testing.T) {
	data := t.TempDir()
	reg, _ := Load(data)
	reg.Create("acme", Quota{}, time.Now())
	if err := reg.Save(data); err != nil {
		t.Fatal(err)
	}
	open := func(id, dir string, admit func(string) (func(), error)) (*server.Service, error) {
		return server.Open(dir, server.Options{IndexEvery: -1, AdmitStart: admit})
	}
	h1, err := NewHost(Options{Data: data, Verifier: &auth.Verifier{}, Open: open})
	if err != nil {
		t.Fatal(err)
	}
	s, err := h1.serve("acme", Quota{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	src := "package t\n\nworkflow Later() -> int {\n  select {\n    on signal Go() -> { return 1 }\n    on timer 500ms -> { return 2 }\n  }\n}\n"
	if _, err := s.svc.Deploy("t.knhk", []byte(src), nil); err != nil {
		t.Fatal(err)
	}
	id, _, err := s.svc.Start(context.Background(), server.StartRequest{Workflow: "Later"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h1.Close(ctx); err != nil {
		t.Fatal(err)
	}
	h2, err := NewHost(Options{Data: data, Verifier: &auth.Verifier{}, Open: open})
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close(ctx)
	for i := 0; i < 200; i++ {
		h2.mu.Lock()
		s2 := h2.open["acme"]
		h2.mu.Unlock()
		if s2 != nil {
			<-s2.ready
			if s2.err != nil {
				t.Fatal(s2.err)
			}
			if sum, err := s2.svc.Get(id); err == nil && sum.Status == "completed" {
				if string(sum.Result) != "2" {
					t.Fatalf("result %s", sum.Result)
				}
				return
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("the restarted tenant's timer did not fire without a call")
}

// TestRunningCapExact checks the cap of a tenant's group on a cluster:
// it recounts at every start, so cases that another node started while
// it led count at once.
func TestRunningCapExact(t *testing.T) {
	running := 0
	c := &runningCap{count: func() int { return running }, exact: true}
	c.setMax(2)
	release, err := c.admit("acme")
	if err != nil {
		t.Fatal(err)
	}
	release()
	running = 2 // started through another leader
	if _, err := c.admit("acme"); !errors.Is(err, ErrQuota) {
		t.Fatalf("a third running case admitted: %v", err)
	}
	running = 1
	if _, err := c.admit("acme"); err != nil {
		t.Fatalf("a start within the cap: %v", err)
	}
}
