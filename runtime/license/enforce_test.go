package license

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func enforcer(t *testing.T, tier string, now *time.Time, running *int) *Enforcer {
	l, err := Parse(issue(t, payload(t, tier)))
	if err != nil {
		t.Fatal(err)
	}
	e := NewEnforcer(l)
	e.Now = func() time.Time { return *now }
	e.Running = func() int { return *running }
	return e
}

func wantLimit(t *testing.T, err error, limit string) {
	t.Helper()
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != limit || !errors.Is(err, ErrLimit) {
		t.Fatalf("got %v, want a refusal naming %s", err, limit)
	}
	if !strings.Contains(err.Error(), limit) {
		t.Fatalf("message %q does not name %s", err, limit)
	}
}

func TestConcurrentCases(t *testing.T) {
	now, running := t0.Add(time.Hour), 0
	e := enforcer(t, "team", &now, &running) // 3 concurrent cases
	var rel []func()
	for i := 0; i < 3; i++ {
		r, err := e.AdmitStart("w")
		if err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
		rel = append(rel, r)
	}
	// Three admitted and not yet counted by Running: the fourth is
	// refused all the same.
	_, err := e.AdmitStart("w")
	wantLimit(t, err, LimitConcurrentCases)
	// They start: Running counts them, the admissions are released.
	running = 3
	for _, r := range rel {
		r()
		r() // twice is once
	}
	_, err = e.AdmitStart("w")
	wantLimit(t, err, LimitConcurrentCases)
	running = 2 // one ended
	if _, err := e.AdmitStart("w"); err != nil {
		t.Fatal(err)
	}
}

func TestTransitionsPerMonth(t *testing.T) {
	now, running := t0.Add(time.Hour), 0
	e := enforcer(t, "team", &now, &running) // 100 per month
	e.SeedTransitions(Month(now), 99)
	if r, err := e.AdmitStart("w"); err != nil {
		t.Fatal(err)
	} else {
		r()
	}
	e.Transition(now)
	_, err := e.AdmitStart("w")
	wantLimit(t, err, LimitTransitionsPerMonth)
	// A new month starts afresh.
	now = now.AddDate(0, 1, 0)
	if _, err := e.AdmitStart("w"); err != nil {
		t.Errorf("next month: %v", err)
	}
	e.Transition(now)
	e.Transition(t0) // late event of the closed month: not counted into this one
	if e.transitions != 1 {
		t.Errorf("transitions %d, want 1", e.transitions)
	}
}

func TestPrograms(t *testing.T) {
	now, running := t0.Add(time.Hour), 0
	e := enforcer(t, "team", &now, &running) // 2 programs
	e.Deployed("a")
	if err := e.AdmitDeploy("b"); err != nil {
		t.Fatal(err)
	}
	if err := e.AdmitDeploy("a"); err != nil {
		t.Errorf("redeploy: %v", err)
	}
	wantLimit(t, e.AdmitDeploy("c"), LimitPrograms)
}

func TestGraceAndExpiry(t *testing.T) {
	now, running := t0.AddDate(0, 1, 1), 0 // a day after expiry, 7 days of grace
	e := enforcer(t, "team", &now, &running)
	var warnings []string
	e.Warn = func(m string) { warnings = append(warnings, m) }
	for i := 0; i < 2; i++ {
		if _, err := e.AdmitStart("w"); err != nil {
			t.Fatalf("grace: %v", err)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "grace period") {
		t.Errorf("warnings %q: want one about the grace period", warnings)
	}
	now = now.AddDate(0, 0, 7)
	_, err := e.AdmitStart("w")
	wantLimit(t, err, LimitExpiry)
	wantLimit(t, e.AdmitDeploy("x"), LimitExpiry)
}

func TestAcceleratorAndCluster(t *testing.T) {
	p := payload(t, "team")
	wantLimit(t, p.CheckAccelerator(), LimitAccelerator)
	wantLimit(t, p.CheckClusterSize(3), LimitClusterSize)
	if err := p.CheckClusterSize(1); err != nil {
		t.Error(err)
	}
	if ep := payload(t, "enterprise"); ep.CheckAccelerator() != nil {
		err := ep.CheckAccelerator()
		t.Error(err)
	}
}

// TestRunningAskedNearTheLimit: Running walks every case, so the
// Enforcer asks it only when the starts admitted since its last count
// may have reached the limit, and never admits beyond the limit.
func TestRunningAskedNearTheLimit(t *testing.T) {
	now := t0.Add(time.Hour)
	l, err := Parse(issue(t, payload(t, "enterprise")))
	if err != nil {
		t.Fatal(err)
	}
	n := int64(10)
	l.Limits.ConcurrentCases = &n
	e := NewEnforcer(l)
	e.Now = func() time.Time { return now }
	running, asked := 0, 0
	e.Running = func() int { asked++; return running }
	for i := 0; i < 10; i++ {
		r, err := e.AdmitStart("w")
		if err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
		running++
		r()
	}
	if asked != 1 {
		t.Errorf("Running asked %d times for 10 starts under the limit, want 1", asked)
	}
	_, err = e.AdmitStart("w")
	wantLimit(t, err, LimitConcurrentCases)
	running = 4 // six ended
	for i := 0; i < 6; i++ {
		r, err := e.AdmitStart("w")
		if err != nil {
			t.Fatalf("start after six ended, %d: %v", i, err)
		}
		running++
		r()
	}
	_, err = e.AdmitStart("w")
	wantLimit(t, err, LimitConcurrentCases)
	if running != 10 {
		t.Errorf("%d running, limit 10", running)
	}
}
