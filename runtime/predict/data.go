// This file implements the training data: cases as sequences of
// activity numbers with times, their chronological split and the
// prefixes that the models learn from.

package predict

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/knhk/knhk/runtime/export"
)

// Case is one case of a log: its events in time order.
type Case struct {
	ID    string
	Acts  []int
	Times []time.Time
}

// Data is a log prepared for learning.
type Data struct {
	Names []string // activity names by number
	Cases []Case
}

// ErrTooSmall is wrapped by the error for a log too small to learn from.
var ErrTooSmall = errors.New("log too small to learn from")

// FromLog prepares l: one event per activity occurrence (lifecycle
// start events are dropped when the log also has complete events, so
// each step counts once, at its completion), events sorted by time
// (stably), events without a timestamp an error. Fewer than minCases
// cases with events is an error wrapping [ErrTooSmall].
func FromLog(l *export.Log, minCases int) (*Data, error) {
	hasComplete := false
	for _, t := range l.Traces {
		for _, e := range t.Events {
			if e.Lifecycle == export.Complete {
				hasComplete = true
			}
		}
	}
	d := &Data{}
	ids := map[string]int{}
	for _, t := range l.Traces {
		type ev struct {
			act int
			t   time.Time
		}
		var evs []ev
		for i, e := range t.Events {
			if hasComplete && e.Lifecycle == export.Start {
				continue
			}
			if e.Time.IsZero() {
				return nil, fmt.Errorf("case %s: event %d (%s) has no timestamp", t.Case, i+1, e.Activity)
			}
			id, ok := ids[e.Activity]
			if !ok {
				id = len(d.Names)
				ids[e.Activity] = id
				d.Names = append(d.Names, e.Activity)
			}
			evs = append(evs, ev{id, e.Time})
		}
		if len(evs) == 0 {
			continue
		}
		slices.SortStableFunc(evs, func(a, b ev) int { return a.t.Compare(b.t) })
		c := Case{ID: t.Case}
		for _, e := range evs {
			c.Acts = append(c.Acts, e.act)
			c.Times = append(c.Times, e.t)
		}
		d.Cases = append(d.Cases, c)
	}
	if len(d.Cases) < minCases {
		return nil, fmt.Errorf("%w: %d cases with events, want at least %d", ErrTooSmall, len(d.Cases), minCases)
	}
	return d, nil
}

// Split orders the cases by their first event and returns the first
// frac of them for training and the rest for testing: the model never
// sees a case that started after one it is scored on.
func (d *Data) Split(frac float64) (train, test []Case) {
	cs := slices.Clone(d.Cases)
	slices.SortStableFunc(cs, func(a, b Case) int { return a.Times[0].Compare(b.Times[0]) })
	n := int(float64(len(cs)) * frac)
	return cs[:n], cs[n:]
}

// End is the next-activity class of a prefix that is the whole case.
const End = -1

// Prefix is the first K events of a case, with what followed.
type Prefix struct {
	Case      *Case
	K         int
	Next      int     // the activity after the prefix, End after the last
	Remaining float64 // seconds from the K-th event to the case's last
}

// Prefixes returns the prefixes of lengths 1 to len-1 of each case,
// and the whole case too (its next activity End) when whole is set, in
// case order. Remaining time is scored on the proper prefixes (a whole
// case has none left); next activity on all, the end being one of the
// things that can come next.
func Prefixes(cs []Case, whole bool) []Prefix {
	var out []Prefix
	for i := range cs {
		c := &cs[i]
		n := len(c.Acts)
		for k := 1; k <= n; k++ {
			next := End
			if k < n {
				next = c.Acts[k]
			} else if !whole {
				break
			}
			out = append(out, Prefix{Case: c, K: k, Next: next, Remaining: c.Times[n-1].Sub(c.Times[k-1]).Seconds()})
		}
	}
	return out
}
