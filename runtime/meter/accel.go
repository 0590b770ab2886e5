// This file implements accelerator metering: the time a data
// directory's (a tenant's) kernel calls spend on an accelerator, kept
// per month in DIR/meter/accelerator.json for the usage report, and the
// licence's say over whether a call may go there at all.
//
// The event log does not record kernel calls (they run inside a
// transition, not as one), so accelerator time cannot be recounted from
// it: the ledger is its record, written by the process that ran the
// calls, and a usage report's accelerator fields reconcile with the
// ledger where its other fields reconcile with the log.

package meter

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// AccelMonth is one month of accelerator use.
type AccelMonth struct {
	NS    int64 `json:"ns"`    // time spent in kernel calls the accelerator took
	Calls int64 `json:"calls"` // kernel calls (and list sums) the accelerator took
}

// Ledger is the accelerator use of a data directory by month.
type Ledger struct {
	Version int                    `json:"version"`
	Months  map[string]*AccelMonth `json:"months"`
}

// LedgerPath returns the path of data directory data's accelerator
// ledger.
func LedgerPath(data string) string { return filepath.Join(data, "meter", "accelerator.json") }

// ReadLedger reads data's ledger; a directory without one has used no
// accelerator.
func ReadLedger(data string) (*Ledger, error) {
	b, err := os.ReadFile(LedgerPath(data))
	if errors.Is(err, os.ErrNotExist) {
		return &Ledger{Version: 1, Months: map[string]*AccelMonth{}}, nil
	}
	if err != nil {
		return nil, err
	}
	var l Ledger
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("%s: %w", LedgerPath(data), err)
	}
	if l.Version != 1 {
		return nil, fmt.Errorf("%s: version %d, want 1", LedgerPath(data), l.Version)
	}
	if l.Months == nil {
		l.Months = map[string]*AccelMonth{}
	}
	for m, u := range l.Months {
		if !monthRE.MatchString(m) || u == nil || u.NS < 0 || u.Calls < 0 {
			return nil, fmt.Errorf("%s: bad month %q", LedgerPath(data), m)
		}
	}
	return &l, nil
}

// Month returns the use of month, zero when none.
func (l *Ledger) Month(month string) AccelMonth {
	if u := l.Months[month]; u != nil {
		return *u
	}
	return AccelMonth{}
}

// Accelerator is a kernel runner that meters the calls its inner runner
// (the process's device, accel.Shared) takes, and keeps them off it when
// Allow refuses. A call the inner runner leaves to the CPU (too small,
// or no device) costs no accelerator time. Its methods are safe for
// concurrent use.
type Accelerator struct {
	inner eval.KernelRunner
	data  string // the data directory whose ledger it keeps
	// Allow, if set, is asked before each call with this month's use;
	// an error keeps the call on the CPU (the licence's accelerator
	// limits): the call's result is the same, only slower, so that no
	// case fails for it.
	Allow func(used AccelMonth) error
	// Refused, if set, is told each refusal of Allow (knhk serve logs
	// the first of each month).
	Refused func(err error)
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	mu      sync.Mutex
	ledger  *Ledger
	total   AccelMonth            // since this process started, for counters
	pending map[string]AccelMonth // not yet taken into a raft log (pending.go)
	dirty   bool
	flushed time.Time
}

// NewAccelerator returns the meter of inner's calls for data directory
// data, continuing its ledger. inner may be nil (no accelerator: every
// call stays on the CPU).
func NewAccelerator(inner eval.KernelRunner, data string) (*Accelerator, error) {
	l, err := ReadLedger(data)
	if err != nil {
		return nil, err
	}
	return &Accelerator{inner: inner, data: data, ledger: l}, nil
}

func (a *Accelerator) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// allowed asks Allow about a call now.
func (a *Accelerator) allowed(now time.Time) bool {
	if a.Allow == nil {
		return true
	}
	a.mu.Lock()
	used := a.ledger.Month(Month(now.UnixNano()))
	a.mu.Unlock()
	if err := a.Allow(used); err != nil {
		if a.Refused != nil {
			a.Refused(err)
		}
		return false
	}
	return true
}

// RunKernel runs kernel k of p on the inner runner when it is allowed
// and takes the call, metering the time it took.
func (a *Accelerator) RunKernel(p *ir.Program, k int, args []eval.Value) (eval.Value, bool, error) {
	if a == nil || a.inner == nil {
		return eval.Value{}, false, nil
	}
	start := a.now()
	if !a.allowed(start) {
		return eval.Value{}, false, nil
	}
	v, ok, err := a.inner.RunKernel(p, k, args)
	if ok {
		a.add(start, a.now().Sub(start))
	}
	return v, ok, err
}

// SumList sums xs on the inner runner when it folds lists, is allowed
// and takes the call, metering the time it took (eval.ListReducer).
func (a *Accelerator) SumList(xs eval.Value, k ir.Kind) (eval.Value, bool, error) {
	if a == nil {
		return eval.Value{}, false, nil
	}
	lr, ok := a.inner.(eval.ListReducer)
	if !ok {
		return eval.Value{}, false, nil
	}
	start := a.now()
	if !a.allowed(start) {
		return eval.Value{}, false, nil
	}
	v, ok, err := lr.SumList(xs, k)
	if ok {
		a.add(start, a.now().Sub(start))
	}
	return v, ok, err
}

// ledgerFlushEvery is how often the ledger is written while calls go on;
// Close writes the rest.
const ledgerFlushEvery = time.Second

// add meters a call that started at start and took d.
func (a *Accelerator) add(start time.Time, d time.Duration) {
	m := Month(start.UnixNano())
	a.mu.Lock()
	defer a.mu.Unlock()
	u := a.ledger.Months[m]
	if u == nil {
		u = &AccelMonth{}
		a.ledger.Months[m] = u
	}
	u.NS += int64(d)
	u.Calls++
	a.total.NS += int64(d)
	a.total.Calls++
	a.addPending(m, AccelMonth{NS: int64(d), Calls: 1})
	a.dirty = true
	if now := a.now(); now.Sub(a.flushed) >= ledgerFlushEvery {
		if err := a.flushLocked(); err == nil {
			a.flushed = now
		}
	}
}

// Total returns the use metered since a was made, for counters.
func (a *Accelerator) Total() AccelMonth {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.total
}

// MonthUse returns the use of month, the ledger's and this process's.
func (a *Accelerator) MonthUse(month string) AccelMonth {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ledger.Month(month)
}

// Flush writes the ledger when calls were metered since it last was.
func (a *Accelerator) Flush() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.flushLocked()
}

func (a *Accelerator) flushLocked() error {
	if !a.dirty {
		return nil
	}
	b, err := json.MarshalIndent(a.ledger, "", "  ")
	if err != nil {
		return err
	}
	path := LedgerPath(a.data)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	a.dirty = false
	return nil
}
