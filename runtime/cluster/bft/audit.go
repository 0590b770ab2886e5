// This file implements the cluster's audit chain on a CometBFT chain:
// the audit records of the actions the cluster decides live in the
// cluster's own space's FSM (cluster's audit.go), so every validator
// chains them in block order, and the application hash, which covers
// that FSM's state hash, covers the chain.
//
// A record reaches the chain as the raft mode's does (cluster's
// auditride.go), with the driver as the proposer:
//
//   - a write of the cluster's own space (a tenancy change, an event of
//     the default tenant's cases) carries its call's record in its own
//     signed transaction: the record and the write are in one block or
//     neither is, and every validator chains the record when it applies
//     the write, with the write's outcome;
//   - a write of a tenant's space carries its record in its transaction
//     too, and every validator chains it, with the event's outcome, in
//     the cluster's own space's chain (App.deliver strips it from the
//     command the tenant's space applies): unlike a raft cluster's
//     tenant group, whose log holds no chain, no intent is committed
//     first, so a tenant's write costs one block, not two;
//   - a record of its own (a refusal after admission) is an audit
//     transaction of the cluster's own space (Driver.Audit).
//
// So once a write is in a block, its record is in the chain of every
// honest validator, and no driver can take it out or change it later:
// that would change the application hash the validators agreed on.

package bft

import (
	"context"
	"crypto/sha256"
	"sync"

	"github.com/knhk/knhk/runtime/cluster"
)

// Audit appends rec to the cluster's audit chain in an audit
// transaction with request id reqID (a retry with it appends once) and
// returns the index its block applied it at. Only the cluster's own
// space's driver commits it.
func (d *Driver) Audit(ctx context.Context, reqID string, rec cluster.AuditRecord) (uint64, error) {
	if err := cluster.PrepareAudit(&rec); err != nil {
		return 0, err
	}
	return d.Commit(ctx, &cluster.Command{Op: cluster.OpAudit, ReqID: reqID, Audit: &rec})
}

// audited tells the rider of c, a command the driver submitted with
// outcome err, whether its record is in the chain: it is when the block
// applied c, and also when the FSM applied and refused it (chained as
// refused); not when the application refused the transaction before
// its FSM saw it (a lease, a licence), and then the call's front
// records the call on its own.
func (a *App) audited(c *cluster.Command, err error) {
	switch {
	case c.Audit == nil:
	case err == nil:
		cluster.AuditApplied(c, false)
	case a.fsm.AuditChained(c.Audit):
		cluster.AuditApplied(c, true)
	}
}

// riders are the commands carrying a call's record that this
// validator's drivers submitted and whose blocks are still to come, by
// the SHA-256 of their transactions: when the block applies one, the
// rider learns that its record is chained before the call can see its
// write applied (a driver's call returns once the FSM shows its event),
// so the call's front never adds the record a second time.
type riders struct {
	mu sync.Mutex
	m  map[[32]byte]*cluster.Command
}

// add registers c, submitted as tx, and returns its removal.
func (r *riders) add(tx []byte, c *cluster.Command) func() {
	if c.Audit == nil {
		return func() {}
	}
	k := sha256.Sum256(tx)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[[32]byte]*cluster.Command{}
	}
	r.m[k] = c
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.m, k)
	}
}

// applying tells the rider of tx, if this validator submitted it, that
// its space's FSM is about to apply it: the FSM chains its record
// whatever the outcome (cluster's auditride.go).
func (r *riders) applying(tx []byte) {
	k := sha256.Sum256(tx)
	r.mu.Lock()
	c := r.m[k]
	r.mu.Unlock()
	if c != nil {
		cluster.AuditApplied(c, false)
	}
}
