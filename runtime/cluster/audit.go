// This file implements the cluster's audit chain: the audit records of
// the actions the cluster decides (runtime/audit's records: who, what,
// when, from where, result) travel through the raft log as OpAudit
// commands and every replica chains them in log order, so that every
// node holds the same chain at the same applied index and an export
// from any node carries the same records and hashes.
//
// The proposer fixes a record's fields, its time included; the replica
// fixes its place: Seq is its position in the chain, Prev the hash of
// the record before it, Hash runtime/audit's chain hash. The chain lives
// in the FSM and travels in snapshots.

package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/knhk/knhk/runtime/audit"
)

// AuditRecord is one record of the cluster's audit chain.
type AuditRecord = audit.Record

// Limits on a record proposed to the chain, those of runtime/audit's
// log lines: a record of a caller's request cannot grow the log much.
const (
	maxAuditField   = 1 << 10
	maxAuditTargets = 17 // 16 and a "… N more"
)

// checkAudit refuses a record the chain does not take.
func checkAudit(r *AuditRecord) error {
	if r == nil {
		return errors.New("audit command without a record")
	}
	if r.Action == "" || r.Result == "" {
		return errors.New("audit record without an action or a result")
	}
	if _, err := time.Parse(time.RFC3339Nano, r.Time); err != nil {
		return fmt.Errorf("audit record time %q: %v", r.Time, err)
	}
	if len(r.Targets) > maxAuditTargets {
		return fmt.Errorf("audit record with %d targets (at most %d)", len(r.Targets), maxAuditTargets)
	}
	for _, s := range append([]string{r.Tenant, r.Subject, r.Role, r.Credential, r.Action, r.Remote, r.Result, r.Detail}, r.Targets...) {
		if len(s) > maxAuditField+len("…") {
			return fmt.Errorf("audit record field of %d bytes (at most %d)", len(s), maxAuditField)
		}
	}
	return nil
}

// clipAudit bounds r's fields as runtime/audit does a line's, so that
// what a caller sent cannot make the proposal refused.
func clipAudit(r *AuditRecord) {
	c := func(s *string) {
		if len(*s) > maxAuditField {
			b := []byte((*s)[:maxAuditField])
			for len(b) > 0 && b[len(b)-1]&0xC0 == 0x80 {
				b = b[:len(b)-1]
			}
			if len(b) > 0 && b[len(b)-1] >= 0xC0 {
				b = b[:len(b)-1]
			}
			*s = string(b) + "…"
		}
	}
	for _, s := range []*string{&r.Tenant, &r.Subject, &r.Role, &r.Credential, &r.Action, &r.Remote, &r.Result, &r.Detail} {
		c(s)
	}
	if len(r.Targets) > maxAuditTargets-1 {
		r.Targets = append(r.Targets[:maxAuditTargets-1:maxAuditTargets-1], fmt.Sprintf("… %d more", len(r.Targets)-(maxAuditTargets-1)))
	}
	for i := range r.Targets {
		c(&r.Targets[i])
	}
	if r.Time == "" {
		r.Time = time.Now().UTC().Format(time.RFC3339Nano)
	}
}

// auditChain is the FSM's audit chain.
type auditChain struct {
	recs []AuditRecord
}

func (a *auditChain) head() audit.Digest {
	if len(a.recs) == 0 {
		return audit.Digest{}
	}
	return a.recs[len(a.recs)-1].Hash
}

// applyAudit chains r as the next record.
func (f *FSM) applyAudit(r *AuditRecord) error {
	rec := *r
	rec.Targets = append([]string(nil), r.Targets...)
	rec.Seq = uint64(len(f.aud.recs))
	rec.Prev = f.aud.head()
	rec.Hash = rec.ComputeHash()
	f.aud.recs = append(f.aud.recs, rec)
	return nil
}

// AuditChain returns a copy of the cluster's audit chain as this replica
// applied it, and the raft index it has applied.
func (f *FSM) AuditChain() ([]AuditRecord, uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]AuditRecord, len(f.aud.recs))
	copy(out, f.aud.recs)
	return out, f.applied
}

// Audit appends rec to the cluster's audit chain through the log, with
// request id reqID (retrying with the same id appends it once), and
// returns the index it was committed at. Only the leader proposes.
func (n *Node) Audit(ctx context.Context, reqID string, rec AuditRecord) (uint64, error) {
	if _, err := n.leader(); err != nil {
		return 0, err
	}
	if err := PrepareAudit(&rec); err != nil {
		return 0, err
	}
	r, err := n.propose(ctx, &Command{Op: OpAudit, ReqID: reqID, Program: n.hash, Audit: &rec})
	if err != nil {
		return 0, err
	}
	return r.Index, r.Err
}

// PrepareAudit readies rec for a proposal to the chain: its place
// cleared (the replica fixes it), its fields clipped as a line's are,
// and refused when the chain would not take it. A proposer other than
// a [Node] (the Byzantine mode's driver) calls it before it proposes an
// OpAudit command.
func PrepareAudit(rec *AuditRecord) error {
	rec.Seq, rec.Prev, rec.Hash = 0, audit.Digest{}, audit.Digest{}
	clipAudit(rec)
	return checkAudit(rec)
}

// AuditChained says whether the chain's last records hold rec, a
// record that rode in a command (its time, action, caller and address;
// a ride may add a case's id to its targets and its outcome to its
// result): the proposer of a command that a block refused learns so
// whether the FSM applied it, and chained the record, or refused it
// before.
func (f *FSM) AuditChained(rec *AuditRecord) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for i := len(f.aud.recs) - 1; i >= 0 && i >= len(f.aud.recs)-256; i-- {
		r := &f.aud.recs[i]
		if r.Time == rec.Time && r.Action == rec.Action && r.Tenant == rec.Tenant && r.Subject == rec.Subject && r.Remote == rec.Remote {
			return true
		}
	}
	return false
}

// wireAudit is the audit chain in a snapshot.
type wireAudit struct {
	Records []AuditRecord `json:"records"`
}

func (a *auditChain) wire() *wireAudit {
	if len(a.recs) == 0 {
		return nil
	}
	return &wireAudit{Records: a.recs}
}

// restoreAudit checks a snapshot's chain record by record.
func restoreAudit(w *wireAudit) (auditChain, error) {
	if w == nil {
		return auditChain{}, nil
	}
	var prev audit.Digest
	for i := range w.Records {
		r := &w.Records[i]
		if r.Seq != uint64(i) || r.Prev != prev || r.ComputeHash() != r.Hash {
			return auditChain{}, fmt.Errorf("%w: audit record %d does not chain", ErrBadSnapshot, i)
		}
		prev = r.Hash
	}
	return auditChain{recs: w.Records}, nil
}
