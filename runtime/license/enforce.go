// This file implements the Enforcer: a licence applied to a running
// server's starts and deploys.

package license

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrLimit is wrapped by every refusal of the Enforcer.
var ErrLimit = errors.New("licence limit reached")

// LimitError is a refusal: which limit, what it allows and what is in
// use.
type LimitError struct {
	Limit string // a Limit* name
	Max   int64
	Used  int64
	Msg   string
}

func (e *LimitError) Error() string { return e.Msg }

// Unwrap makes errors.Is(err, ErrLimit) hold.
func (e *LimitError) Unwrap() error { return ErrLimit }

// Enforcer applies a licence to a server. Running cases are never
// touched: a limit refuses only new starts and new deploys. Its methods
// are safe for concurrent use.
type Enforcer struct {
	lic *License
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Running returns the number of cases running now.
	Running func() int
	// Warn receives the grace-period warning, once a day at most.
	Warn func(msg string)

	mu       sync.Mutex
	inflight int64 // starts admitted whose cases Running may not count yet
	// bound is at least the number of cases running, not counting
	// inflight: Running's count when last asked plus the starts admitted
	// since (cases only end in between). Running walks every case, so it
	// is asked only when bound says the limit may be reached; -1 before
	// the first ask.
	bound       int64
	programs    map[string]bool
	month       string // "2006-01" of transitions
	transitions int64
	warned      time.Time
}

// NewEnforcer returns an Enforcer of l.
func NewEnforcer(l *License) *Enforcer {
	return &Enforcer{lic: l, programs: map[string]bool{}, bound: -1}
}

// License returns the licence e enforces.
func (e *Enforcer) License() *License { return e.lic }

func (e *Enforcer) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Month returns the metering month of t: its UTC year and month.
func Month(t time.Time) string { return t.UTC().Format("2006-01") }

// SeedTransitions sets the transitions already fired in month (counted
// from the event log when the server opens).
func (e *Enforcer) SeedTransitions(month string, n int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.month, e.transitions = month, n
}

// Transition counts one transition fired at t.
func (e *Enforcer) Transition(t time.Time) {
	m := Month(t)
	e.mu.Lock()
	if m != e.month {
		if m < e.month {
			e.mu.Unlock()
			return // a late event of a month already closed
		}
		e.month, e.transitions = m, 0
	}
	e.transitions++
	e.mu.Unlock()
}

// Deployed records programs already deployed (when the server opens).
func (e *Enforcer) Deployed(hashes ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, h := range hashes {
		e.programs[h] = true
	}
}

// AdmitDeploy admits a deploy of the program hash: a program already
// deployed is always admitted; a new one only within the programs
// limit and while the licence stands.
func (e *Enforcer) AdmitDeploy(hash string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.programs[hash] {
		return nil
	}
	if err := e.standingLocked("deploys"); err != nil {
		return err
	}
	if p := e.lic.Limits.Programs; p != nil && int64(len(e.programs)) >= *p {
		return e.refuse(LimitPrograms, *p, int64(len(e.programs)), "%d programs are deployed; deploy refused", len(e.programs))
	}
	e.programs[hash] = true
	return nil
}

// AdmitStart admits a new case of workflow, or refuses it with a
// *LimitError. The caller calls release once the case is running (or
// failed to start), when Running counts it.
func (e *Enforcer) AdmitStart(workflow string) (release func(), err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.standingLocked("new starts"); err != nil {
		return nil, err
	}
	if t := e.lic.Limits.TransitionsPerMonth; t != nil && e.month == Month(e.now()) && e.transitions >= *t {
		return nil, e.refuse(LimitTransitionsPerMonth, *t, e.transitions, "%d transitions fired in %s; new starts are refused until next month (running cases go on)", e.transitions, e.month)
	}
	if c := e.lic.Limits.ConcurrentCases; c != nil {
		if e.bound < 0 || e.bound+e.inflight >= *c {
			e.bound = 0
			if e.Running != nil {
				e.bound = int64(e.Running())
			}
		}
		if running := e.bound + e.inflight; running >= *c {
			return nil, e.refuse(LimitConcurrentCases, *c, running, "%d cases are running; start of %s refused until one ends", running, workflow)
		}
	}
	e.inflight++
	var once sync.Once
	return func() {
		once.Do(func() {
			e.mu.Lock()
			e.inflight--
			if e.bound >= 0 {
				e.bound++ // the case is running now, or failed to start: either way bound stays above
			}
			e.mu.Unlock()
		})
	}, nil
}

// standingLocked refuses when the licence is past its grace period and
// warns during it.
func (e *Enforcer) standingLocked(what string) error {
	now := e.now()
	switch e.lic.At(now) {
	case Grace:
		if e.Warn != nil && now.Sub(e.warned) >= 24*time.Hour {
			e.warned = now
			e.Warn(fmt.Sprintf("licence %s of %s %s", e.lic.ID, e.lic.Customer, e.lic.Describe(now)))
		}
	case Expired:
		return &LimitError{Limit: LimitExpiry, Msg: fmt.Sprintf("licence limit %s: licence %s of %s %s; %s are refused (running cases go on)", LimitExpiry, e.lic.ID, e.lic.Customer, e.lic.Describe(now), what)}
	}
	return nil
}

func (e *Enforcer) refuse(limit string, max, used int64, format string, args ...any) error {
	return &LimitError{Limit: limit, Max: max, Used: used,
		Msg: fmt.Sprintf("licence limit %s (%d, tier %s) reached: ", limit, max, e.lic.Tier) + fmt.Sprintf(format, args...)}
}

// CheckAccelerator refuses use of an accelerator when the licence does
// not allow it.
func (l *Payload) CheckAccelerator() error {
	if l.Limits.Accelerator {
		return nil
	}
	return &LimitError{Limit: LimitAccelerator, Msg: fmt.Sprintf("licence limit %s: tier %s does not include accelerators; run kernels on the CPU (unset KNHK_DEVICE or set it to cpu)", LimitAccelerator, l.Tier)}
}

// CheckAcceleratorTime refuses a kernel call on an accelerator when the
// licence does not include accelerators, or when usedNS, the
// accelerator time of this month so far, has reached its
// accelerator_seconds_per_month. The caller then runs the call on the
// CPU: the limit slows a case, it never fails one.
func (l *Payload) CheckAcceleratorTime(usedNS int64) error {
	if !l.Limits.Accelerator {
		return &LimitError{Limit: LimitAccelerator, Msg: fmt.Sprintf("licence limit %s: tier %s does not include accelerators; kernel calls run on the CPU", LimitAccelerator, l.Tier)}
	}
	if s := l.Limits.AcceleratorSecondsPerMonth; s != nil && usedNS >= *s*int64(time.Second) {
		used := time.Duration(usedNS).Round(time.Millisecond)
		return &LimitError{Limit: LimitAcceleratorSeconds, Max: *s, Used: usedNS / int64(time.Second),
			Msg: fmt.Sprintf("licence limit %s (%d, tier %s) reached: %v of accelerator time used this month; kernel calls run on the CPU until next month", LimitAcceleratorSeconds, *s, l.Tier, used)}
	}
	return nil
}

// CheckClusterSize refuses a cluster of n nodes beyond the licence.
func (l *Payload) CheckClusterSize(n int) error {
	if c := l.Limits.ClusterSize; c != nil && int64(n) > *c {
		return &LimitError{Limit: LimitClusterSize, Max: *c, Used: int64(n), Msg: fmt.Sprintf("licence limit %s (%d, tier %s): a cluster of %d nodes is refused", LimitClusterSize, *c, l.Tier, n)}
	}
	return nil
}

// MonthTransitions returns the month the Enforcer counts and the
// transitions fired in it, for metrics.
func (e *Enforcer) MonthTransitions() (month string, n int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.month, e.transitions
}
