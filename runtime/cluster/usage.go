// This file implements metering from the replicated log: a month's
// usage counted from the events a replica's FSM committed, so that
// every node that applied the log up to the same index reports the same
// numbers (a node's own counters would count only what it ran while it
// led), and the leader's licence checks count what the log holds.

package cluster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/meter"
	"github.com/knhk/knhk/runtime/store"
)

// Usage is one month of a replica's committed events, counted as
// runtime/meter counts a single server's log, each event as the record
// a server would store for it, its raft index as its sequence number:
// Cases are start events, Transitions fire and timer events (what a
// licence's transitions_per_month limits), Events every event,
// StorageBytes the bytes of the records (case id, kind and encoded
// event), TaskTimeNS the time task and kernel attempts ran (meter.Usage
// says how).
type Usage struct {
	Month        string `json:"month"` // "2006-01", UTC
	Cases        int64  `json:"cases"`
	Transitions  int64  `json:"transitions"`
	Events       int64  `json:"events"`
	StorageBytes int64  `json:"storage_bytes"`
	// TaskTimeNS is counted by FSM.Usage only (not by a Meter).
	TaskTimeNS int64 `json:"task_time_ns"`
	// AcceleratorNS and AcceleratorCalls are the accelerator time and
	// kernel calls of the month the log's commands carried (meter.go),
	// whichever node ran them.
	AcceleratorNS    int64 `json:"accelerator_ns,omitempty"`
	AcceleratorCalls int64 `json:"accelerator_calls,omitempty"`
	// Applied is the raft index the count is as of: replicas that
	// applied the same index answer the same Usage.
	Applied uint64 `json:"applied"`
	// FirstIndex and LastIndex are the raft indexes of the month's first
	// and last events (0 when there are none).
	FirstIndex uint64 `json:"first_index"`
	LastIndex  uint64 `json:"last_index"`
	// Digest is runtime/meter's digest of the month's records in log
	// order (the raft index as the sequence number, then the case id,
	// kind and encoded event, each with its length). It binds the counts
	// to exactly those events.
	Digest string `json:"digest"`
}

// Running counts the cases that have not ended, as Cases(true) lists
// them, without listing them.
func (f *FSM) Running() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	n := 0
	for _, r := range f.cases {
		if !r.s.Done() {
			n++
		}
	}
	return n
}

// UsageMonth returns the metering month of a Unix nanosecond time.
func UsageMonth(ns int64) string { return time.Unix(0, ns).UTC().Format("2006-01") }

// Usage counts month from the events the FSM holds, with the task time
// and the digest (runtime/meter's CountRecords). It walks every event;
// a licence check uses a [Meter] instead.
func (f *FSM) Usage(month string) (Usage, error) { return f.UsageAt(month, 0) }

// UsageAt is Usage as of raft index at: only the events of entries up
// to at are counted, and Applied is at. So a report counted at one
// replica's applied index is recounted exactly by any replica that has
// applied at least that far, even while the month is still open and
// the log has moved on. at 0 counts every event applied; an at beyond
// the FSM's applied index is refused (see [Node.WaitApplied]).
func (f *FSM) UsageAt(month string, at uint64) (Usage, error) {
	type ev struct {
		idx  uint64
		id   string
		data []byte
	}
	f.mu.RLock()
	applied := f.applied
	if at > applied {
		f.mu.RUnlock()
		return Usage{}, fmt.Errorf("%w: raft index %d, applied %d", ErrNotApplied, at, applied)
	}
	if at != 0 {
		applied = at
	}
	acc := f.acc.at(month, applied)
	var evs []ev
	for id, r := range f.cases {
		for _, e := range r.evs {
			if e.Index <= applied {
				evs = append(evs, ev{e.Index, id, e.Data})
			}
		}
	}
	f.mu.RUnlock()
	sort.Slice(evs, func(i, j int) bool { return evs[i].idx < evs[j].idx })
	recs := make([]store.Record, len(evs))
	for i, e := range evs {
		d, err := engine.DecodeEvent(e.data)
		if err != nil {
			return Usage{}, fmt.Errorf("case %s, raft index %d: %w", e.id, e.idx, err)
		}
		recs[i] = meter.RecordOf(e.idx, e.id, d, e.data)
	}
	m, err := meter.CountRecords(month, recs)
	if err != nil {
		return Usage{}, err
	}
	return Usage{Month: month, Cases: m.Cases, Transitions: m.Transitions, Events: m.Events, StorageBytes: m.StorageBytes,
		TaskTimeNS: m.TaskTimeNS, AcceleratorNS: acc.NS, AcceleratorCalls: acc.Calls, Applied: applied, FirstIndex: m.FirstSeq, LastIndex: m.LastSeq, Digest: m.Digest}, nil
}

func (u *Usage) add(k engine.EventKind, bytes int) {
	u.Events++
	u.StorageBytes += int64(bytes)
	switch k {
	case engine.EvStart:
		u.Cases++
	case engine.EvFire, engine.EvTimer:
		u.Transitions++
	}
}

// Meter keeps a replica's monthly counts up to date as the FSM applies,
// reading only the events applied since it last looked: what a licence
// check asks on every start.
type Meter struct {
	f *FSM

	mu       sync.Mutex
	seen     map[string]int // events counted, by case
	restores uint64         // the FSM's restores when seen was made
	months   map[string]*Usage
}

// NewMeter returns a Meter of f.
func NewMeter(f *FSM) *Meter { return &Meter{f: f} }

// Month returns month's counts (without the digest: see [FSM.Usage]).
func (m *Meter) Month(month string) (Usage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.f
	f.mu.RLock()
	defer f.mu.RUnlock()
	if m.seen == nil || m.restores != f.restores {
		// A snapshot replaced the cases: count again from it.
		m.seen, m.restores, m.months = map[string]int{}, f.restores, map[string]*Usage{}
	}
	for id, r := range f.cases {
		from := m.seen[id]
		if from >= len(r.evs) {
			continue
		}
		for _, e := range r.evs[from:] {
			d, err := engine.DecodeEvent(e.Data)
			if err != nil {
				return Usage{}, err
			}
			mo := UsageMonth(d.Time)
			u := m.months[mo]
			if u == nil {
				u = &Usage{Month: mo}
				m.months[mo] = u
			}
			u.add(d.Kind, len(id)+len(d.Kind.String())+len(e.Data))
			if u.FirstIndex == 0 || e.Index < u.FirstIndex {
				u.FirstIndex = e.Index
			}
			u.LastIndex = max(u.LastIndex, e.Index)
		}
		m.seen[id] = len(r.evs)
	}
	u := Usage{Month: month}
	if c := m.months[month]; c != nil {
		u = *c
	}
	u.Applied = f.applied
	a := f.acc.total(month)
	u.AcceleratorNS, u.AcceleratorCalls = a.NS, a.Calls
	return u, nil
}

// ErrNotApplied is a raft index this replica has not applied.
var ErrNotApplied = errors.New("this replica has not applied the entry")

// ErrBeyondLog is a raft index no entry of the cluster's log has yet:
// a report of another cluster or group, or one whose index was edited.
var ErrBeyondLog = errors.New("beyond the cluster's log")

// WaitApplied waits until n's FSM has applied raft index at, so that
// FSM.UsageAt(month, at) counts exactly what the replica that made a
// report counted. A leader answers ErrBeyondLog at once when its log
// does not reach at; a follower in touch with its leader does so once
// at has stayed beyond the commit index the leader told it for settle
// (its commit index trails the leader's by a heartbeat); otherwise it
// waits until ctx ends and says how far it got.
func (n *Node) WaitApplied(ctx context.Context, at uint64, settle time.Duration) error {
	start := time.Now()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		changed := n.fsm.Changed()
		applied, _ := n.fsm.Applied()
		if applied >= at {
			return nil
		}
		last, commit := n.r.LastIndex(), n.r.CommitIndex()
		if n.r.State() == raft.Leader && at > last {
			return fmt.Errorf("%w: raft index %d, and the log of %s (its leader) ends at %d", ErrBeyondLog, at, n.cfg.ID, last)
		}
		if lc := n.r.LastContact(); at > commit && !lc.IsZero() && time.Since(lc) < settle && time.Since(start) > settle {
			return fmt.Errorf("%w: raft index %d, and the leader has committed up to %d (as %s last heard %v ago)", ErrBeyondLog, at, commit, n.cfg.ID, time.Since(lc).Round(time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: raft index %d; %s applied up to %d before %v (committed %d, its log ends at %d): is it cut off from the leader?", ErrNotApplied, at, n.cfg.ID, applied, context.Cause(ctx), commit, last)
		case <-changed:
		case <-tick.C:
		}
	}
}
