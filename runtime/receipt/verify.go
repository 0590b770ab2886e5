// This file implements Verify: the audit of a whole receipt log.

package receipt

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/sign"
)

// VerifyOptions say whose signatures a verification accepts.
type VerifyOptions struct {
	// Trust holds the keys checkpoints must be signed with. Nil: the
	// keys the runtime stored beside the log (DIR/receipts/keys), which
	// proves the log unchanged since it was signed but not who signed it.
	Trust  *sign.TrustSet
	Policy sign.Policy
	// Events, if set, calls fn with every event of the data directory's
	// event log in append order; each receipt's event digest must then
	// match its case's event at the same position.
	Events func(fn func(caseID string, ev *engine.Event) error) error
}

// Report is what Verify found.
type Report struct {
	Receipts    uint64 // receipts that passed every check
	Checkpoints int    // checkpoints whose signature and root passed
	Signed      uint64 // receipts covered by the latest good checkpoint
	Cases       int
	Keys        []string // the key ids that signed the checkpoints
	Anchored    bool     // the keys came from a trust set, not from the log
	// Cut is set when the log ends in a line cut by a crash, after every
	// checkpoint: the next run drops it.
	Cut bool
	// Problem is the first thing wrong, nil when the log verifies.
	Problem *Problem
	// EventsChecked is set when the receipts were compared with the
	// event log; Unreceipted counts the cases with events after their
	// last receipt (continued without --sign-key, or still running).
	EventsChecked bool
	Unreceipted   int
}

// Verify checks the receipt log of data directory data: every receipt's
// hash, sequence number, chain to the previous receipt and to the
// previous receipt of its case; every checkpoint's signature, that the
// checkpoints only grow, and that each one's root is the Merkle root of
// the receipts it covers. It stops at the first problem, reported in
// Report.Problem with the first receipt that cannot be trusted. The
// error is for what prevents the check (no log, unreadable files).
func Verify(data string, o VerifyOptions) (*Report, error) {
	dir := filepath.Join(data, Dir)
	if _, err := os.Stat(filepath.Join(dir, LogFile)); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no receipt log in %s (receipts are kept when a case runs with --sign-key)", data)
	}
	trust := o.Trust
	rep := &Report{Anchored: trust != nil}
	if trust == nil {
		t, err := sign.LoadTrustDir(filepath.Join(dir, KeysDir))
		if err != nil {
			return nil, fmt.Errorf("no signing keys beside the receipt log: %w", err)
		}
		trust = t
	}
	cps, err := loadCheckpoints(filepath.Join(dir, CheckpointsFile), false)
	if err != nil {
		var p *Problem
		if errors.As(err, &p) {
			rep.Problem = p
			return rep, nil
		}
		return nil, err
	}
	// Each checkpoint's own checks: growing sizes, a trusted key the
	// policy accepts, a signature that verifies.
	keys := map[string]bool{}
	for i, cp := range cps {
		bad := func(format string, args ...any) *Problem {
			var start uint64
			if i > 0 {
				start = cps[i-1].Size
			}
			return &Problem{Checkpoint: i + 1, Seq: start, Reason: fmt.Sprintf(format, args...)}
		}
		if i > 0 && cp.Size < cps[i-1].Size {
			rep.Problem = bad("its size %d is smaller than the previous checkpoint's %d", cp.Size, cps[i-1].Size)
			return rep, nil
		}
		k := trust.Key(cp.Key)
		switch {
		case k == nil:
			rep.Problem = bad("signed by %s key %s, which is not trusted", cp.Alg, cp.Key)
			return rep, nil
		case !o.Policy.Accepts(cp.Alg):
			rep.Problem = bad("signed by %s key %s, a %s algorithm that policy %s does not accept", cp.Alg, cp.Key, cp.Alg.Class(), o.Policy)
			return rep, nil
		}
		if err := cp.VerifySignature(k); err != nil {
			rep.Problem = bad("its signature does not verify: %v", err)
			return rep, nil
		}
		keys[cp.Key] = true
	}
	for id := range keys {
		rep.Keys = append(rep.Keys, id)
	}
	sort.Strings(rep.Keys)

	// The event log's digests, per case, to compare the receipts with.
	var events map[string][]Digest
	if o.Events != nil {
		events = map[string][]Digest{}
		err := o.Events(func(id string, ev *engine.Event) error {
			d, err := EventDigest(ev)
			if err != nil {
				return err
			}
			events[id] = append(events[id], d)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading the event log: %w", err)
		}
		rep.EventsChecked = true
	}
	seen := map[string]int{} // receipts so far per case

	// The receipts, with each checkpoint's root compared as the tree
	// reaches its size.
	c := newChain(false)
	rng := rangeFac.NewEmptyRange(0)
	next := 0 // the next checkpoint to compare
	var good uint64
	check := func() *Problem {
		for next < len(cps) && cps[next].Size == c.n {
			root, err := rootOf(rng)
			if err != nil {
				return &Problem{Seq: good, Checkpoint: next + 1, Reason: err.Error()}
			}
			if root != cps[next].Root {
				return &Problem{Seq: good, Checkpoint: next + 1, Reason: fmt.Sprintf("the Merkle root of receipts 0..%d is %s, not the signed %s: a receipt from %d on was rewritten", c.n-1, root, cps[next].Root, good)}
			}
			good = c.n
			rep.Checkpoints = next + 1
			next++
		}
		return nil
	}
	if p := check(); p != nil { // checkpoints of the empty log
		rep.Problem = p
		return rep, nil
	}
	cut, err := readReceipts(filepath.Join(dir, LogFile), 0, 0, func(r *Receipt, _ int64) error {
		if err := c.add(r); err != nil {
			return err
		}
		if events != nil {
			k := seen[r.Case]
			evs := events[r.Case]
			switch {
			case k >= len(evs):
				return &Problem{Seq: r.Seq, Reason: fmt.Sprintf("the event log holds %d events of case %s, and this receipt is for event %d: events were removed from the log", len(evs), r.Case, k+1)}
			case evs[k] != r.Event:
				return &Problem{Seq: r.Seq, Reason: fmt.Sprintf("its event digest does not match event %d of case %s in the event log: the event log or the receipt was changed, or the case ran on without receipts", k+1, r.Case)}
			}
			seen[r.Case] = k + 1
		}
		if err := rng.Append(c.leaves[len(c.leaves)-1], nil); err != nil {
			return err
		}
		if p := check(); p != nil {
			return p
		}
		return nil
	})
	rep.Receipts, rep.Signed, rep.Cases = c.n, good, len(c.cases)
	if err != nil {
		var p *Problem
		if errors.As(err, &p) {
			rep.Problem = p
			return rep, nil
		}
		return nil, err
	}
	if next < len(cps) {
		rep.Problem = &Problem{Seq: c.n, Checkpoint: next + 1, Reason: fmt.Sprintf("it signs %d receipts but the log ends after %d: receipts from %d on were deleted", cps[next].Size, c.n, c.n)}
		return rep, nil
	}
	for id, evs := range events {
		if seen[id] > 0 && seen[id] < len(evs) {
			rep.Unreceipted++
		}
	}
	if cut >= 0 {
		if len(cps) > 0 && cps[len(cps)-1].Size > c.n {
			rep.Problem = &Problem{Seq: c.n, Reason: "the entry is cut short"}
			return rep, nil
		}
		rep.Cut = true
	}
	return rep, nil
}
