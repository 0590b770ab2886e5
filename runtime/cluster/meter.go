// This file implements accelerator time on a raft cluster: the kernel
// calls a node's steps and queries run are metered by its
// runtime/meter Accelerator (Config.Accel), and the time they took
// travels through the log with the next command the node proposes
// (Command.Accel) or, when no command goes, with a small OpMeter of its
// own. Every replica then counts the same time at the same raft index,
// a usage report counted from any node carries it, and a failover
// loses only what the old leader had not yet proposed. A node's ledger
// beside the log stays its own record (and its /metrics).

package cluster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync/atomic"
	"time"

	"github.com/knhk/knhk/runtime/meter"
)

// AccelUse is accelerator time one command carries for a month.
type AccelUse struct {
	Month string `json:"month"` // "2006-01", UTC: when the calls started
	NS    int64  `json:"ns"`    // time in kernel calls the accelerator took
	Calls int64  `json:"calls"` // kernel calls (and list sums) it took
}

// AccelSource is the accelerator use a node has metered and not yet
// proposed (runtime/meter's Accelerator): the node takes it into a
// command, and gives it back when that command surely did not commit.
type AccelSource interface {
	TakePending() map[string]meter.AccelMonth
	ReturnPending(map[string]meter.AccelMonth)
}

// checkAccel checks a command's accelerator time.
func checkAccel(us []AccelUse) error {
	for _, u := range us {
		if _, err := time.Parse("2006-01", u.Month); err != nil || len(u.Month) != 7 {
			return fmt.Errorf("accelerator time of month %q: want YYYY-MM", u.Month)
		}
		if u.NS < 0 || u.Calls < 0 {
			return fmt.Errorf("accelerator time of %s: %d ns in %d calls: negative", u.Month, u.NS, u.Calls)
		}
	}
	return nil
}

// accelEntry is one month's time one entry carried.
type accelEntry struct {
	Index uint64 `json:"i"`
	AccelUse
}

// accelLog is the accelerator time the log carried, entry by entry
// (the snapshot's form), and each month's running totals in index
// order, so that a count as of an earlier index is exact without a scan
// of every entry.
type accelLog struct {
	entries []accelEntry
	months  map[string][]accelSum
	// chain is the state hash's chain over the entries
	// (statehash_ext.go).
	chain [32]byte
}

// accelSum is a month's time up to and including the entry at index.
type accelSum struct {
	index uint64
	sum   meter.AccelMonth
}

// add counts the time the entry at index carried; the FSM's lock is
// held.
func (a *accelLog) add(us []AccelUse, index uint64) {
	for _, u := range us {
		if u.NS == 0 && u.Calls == 0 {
			continue
		}
		a.entries = append(a.entries, accelEntry{Index: index, AccelUse: u})
		a.chainEntry(&a.entries[len(a.entries)-1])
		if a.months == nil {
			a.months = map[string][]accelSum{}
		}
		s := a.months[u.Month]
		m := a.total(u.Month)
		m.NS += u.NS
		m.Calls += u.Calls
		a.months[u.Month] = append(s, accelSum{index, m})
	}
}

// total is month's time of every entry counted.
func (a *accelLog) total(month string) meter.AccelMonth {
	s := a.months[month]
	if len(s) == 0 {
		return meter.AccelMonth{}
	}
	return s[len(s)-1].sum
}

// at is month's time of the entries up to index at.
func (a *accelLog) at(month string, at uint64) meter.AccelMonth {
	s := a.months[month]
	i := sort.Search(len(s), func(i int) bool { return s[i].index > at })
	if i == 0 {
		return meter.AccelMonth{}
	}
	return s[i-1].sum
}

// wire is the log's time in a snapshot.
func (a *accelLog) wire() []accelEntry { return a.entries }

// restoreAccel checks a snapshot's accelerator time.
func restoreAccel(es []accelEntry) (accelLog, error) {
	var a accelLog
	var last uint64
	for _, e := range es {
		if err := checkAccel([]AccelUse{e.AccelUse}); err != nil {
			return accelLog{}, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
		}
		if e.Index < last {
			return accelLog{}, fmt.Errorf("%w: accelerator time of raft index %d after index %d", ErrBadSnapshot, e.Index, last)
		}
		last = e.Index
		a.add([]AccelUse{e.AccelUse}, e.Index)
	}
	return a, nil
}

// AccelMonth returns month's accelerator time the log carried up to
// the FSM's applied index.
func (f *FSM) AccelMonth(month string) meter.AccelMonth {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.acc.total(month)
}

// AccelUses turns pending use into a command's field, by month.
func AccelUses(p map[string]meter.AccelMonth) []AccelUse {
	var out []AccelUse
	for m, u := range p {
		if u.NS != 0 || u.Calls != 0 {
			out = append(out, AccelUse{Month: m, NS: u.NS, Calls: u.Calls})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Month < out[j].Month })
	return out
}

// AccelPending turns a command's field back into pending use.
func AccelPending(us []AccelUse) map[string]meter.AccelMonth {
	p := make(map[string]meter.AccelMonth, len(us))
	for _, u := range us {
		m := p[u.Month]
		m.NS += u.NS
		m.Calls += u.Calls
		p[u.Month] = m
	}
	return p
}

// carryAccel puts the node's pending accelerator time on c, unless c
// carries some already (an OpMeter's, whose proposer gives it back
// itself), and returns how to give it back: propose calls it when c
// surely did not commit.
func (n *Node) carryAccel(c *Command) (giveBack func()) {
	src := n.cfg.Accel
	if src == nil || c.Accel != nil {
		return func() {}
	}
	us := AccelUses(src.TakePending())
	if len(us) == 0 {
		return func() {}
	}
	c.Accel = us
	return func() { src.ReturnPending(AccelPending(us)) }
}

// ProposeAccel puts accelerator time another node metered (a
// follower's queries' kernel calls, which it cannot propose itself)
// into the log in an OpMeter with request id reqID, and returns its
// raft index. Only the leader proposes; an error wrapping ErrNotLeader
// means nothing was proposed, ErrMaybeCommitted that it may have been:
// proposing it again with the same reqID counts it once.
func (n *Node) ProposeAccel(ctx context.Context, reqID string, us []AccelUse) (uint64, error) {
	if _, err := n.leader(); err != nil {
		return 0, err
	}
	if len(us) == 0 {
		return 0, fmt.Errorf("no accelerator time to propose")
	}
	if err := checkAccel(us); err != nil {
		return 0, err
	}
	r, err := n.propose(ctx, &Command{Op: OpMeter, ReqID: reqID, Program: n.hash, Accel: us})
	if err != nil {
		return 0, err
	}
	return r.Index, nil
}

// nodeMeter is a node's state for proposing accelerator time.
type nodeMeter struct {
	busy atomic.Bool
	last atomic.Int64 // when it last proposed an OpMeter (Unix ns)
}

// accelFlushEvery is how often a leader proposes the time no other
// command took (queries' kernel calls while no case moves).
const accelFlushEvery = time.Second

// flushAccel, on the leader's tick, proposes the node's pending
// accelerator time in an OpMeter when a second has passed since the
// last one; a command proposed meanwhile takes it first.
func (n *Node) flushAccel() {
	if n.cfg.Accel == nil || time.Since(time.Unix(0, n.meter.last.Load())) < accelFlushEvery || !n.meter.busy.CompareAndSwap(false, true) {
		return
	}
	n.meter.last.Store(time.Now().UnixNano())
	n.loops.Add(1)
	go func() {
		defer n.loops.Done()
		defer n.meter.busy.Store(false)
		us := AccelUses(n.cfg.Accel.TakePending())
		if len(us) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := n.propose(ctx, &Command{Op: OpMeter, Program: n.hash, Accel: us}); errors.Is(err, ErrNotLeader) {
			n.cfg.Accel.ReturnPending(AccelPending(us)) // surely not in the log
		}
	}()
}
