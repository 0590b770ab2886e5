// This file implements audit records that cannot be lost in a crash:
// the record of a write is committed no later than the write itself.
//
// A record appended as its own OpAudit entry after its write commits is
// lost when the node crashes between the two: the action took effect,
// every replica holds it, and the chain never says who did it. So a
// request's record travels with the request (WithAudit, as its one-time
// keys do in nonce.go) and is taken by the first command the request
// proposes:
//
//   - In the audit chain's own group (the cluster's own raft log, where
//     the chain lives) the record rides in that command: the FSM chains
//     it when it applies the command, with the command's outcome as its
//     result, so the write and its record commit in one entry or not at
//     all.
//   - In any other group (a tenant's, whose log has no chain) the record
//     is first committed to the chain as an intent (result
//     audit.ResultIntent), synchronously, and only then is the write
//     proposed; a record that cannot be committed refuses the write. The
//     request's outcome follows as a record of its own, linked to the
//     intent by the target audit_req=ID. A crash between the write and
//     the outcome leaves the intent: the chain says who asked for what,
//     and that its outcome is unknown, never nothing.
//
// One chain for the whole cluster costs a tenant's write a commit in the
// cluster's log before the write, where a record appended after it cost
// one after (the outcome's record does not hold the answer); a chain
// per tenant group would cost none, but an auditor would then verify
// and order as many chains as there are tenants.

package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/knhk/knhk/runtime/audit"
)

// AuditRider is a request's audit record on its way to the log.
type AuditRider struct {
	home   *FSM // the FSM of the group whose log holds the chain
	build  func() AuditRecord
	intent func(context.Context, AuditRecord) error

	taken, chained, intended, forwarded atomic.Bool
}

// NewAuditRider returns the rider of one request: build makes its
// record (called once, when a command of the request takes it, so that
// it sees who the front admitted); home is the node whose log holds the
// chain; intent commits a record to that chain, for a write proposed in
// another group.
func NewAuditRider(home *Node, build func() AuditRecord, intent func(context.Context, AuditRecord) error) *AuditRider {
	return NewAuditRiderOn(home.fsm, build, intent)
}

// NewAuditRiderOn is [NewAuditRider] for a proposer other than a
// [Node] (the Byzantine mode's driver): home is the FSM whose state
// holds the chain.
func NewAuditRiderOn(home *FSM, build func() AuditRecord, intent func(context.Context, AuditRecord) error) *AuditRider {
	return &AuditRider{home: home, build: build, intent: intent}
}

// Chained says whether the record rode into the chain with a write that
// the log applied (whatever that write's outcome).
func (r *AuditRider) Chained() bool { return r.chained.Load() }

// Intended says whether the record was committed as an intent before a
// write of another group: its outcome is still to record.
func (r *AuditRider) Intended() bool { return r.intended.Load() }

// Forwarded says whether the request was handed to another node (the
// leader), which records it.
func (r *AuditRider) Forwarded() bool { return r.forwarded.Load() }

type riderKey struct{}

// WithAudit returns ctx carrying r: the first command the request
// proposes takes its record.
func WithAudit(ctx context.Context, r *AuditRider) context.Context {
	return context.WithValue(ctx, riderKey{}, r)
}

// AuditForwarded notes that the request of ctx was forwarded to another
// node, whose front records it.
func AuditForwarded(ctx context.Context) {
	if r, _ := ctx.Value(riderKey{}).(*AuditRider); r != nil {
		r.forwarded.Store(true)
	}
}

// takeAudit hands ctx's record, the first time it is asked, to a
// command of n: the record to ride in it when n's log holds the chain;
// otherwise none, once the record is committed to the chain as an
// intent (an error then refuses the command).
func takeAudit(ctx context.Context, f *FSM) (*AuditRecord, *AuditRider, error) {
	r, _ := ctx.Value(riderKey{}).(*AuditRider)
	if r == nil || !r.taken.CompareAndSwap(false, true) {
		return nil, nil, nil
	}
	rec := r.build()
	rec.Seq, rec.Prev, rec.Hash = 0, audit.Digest{}, audit.Digest{}
	clipAudit(&rec)
	if err := checkAudit(&rec); err != nil {
		return nil, nil, fmt.Errorf("the request's audit record: %w", err)
	}
	if f == r.home {
		return &rec, r, nil
	}
	rec.Result = audit.ResultIntent
	if err := r.intent(ctx, rec); err != nil {
		return nil, nil, notAudited{err}
	}
	r.intended.Store(true)
	return nil, nil, nil
}

// notAudited refuses a write whose intent the chain did not take: it
// answers as a command that may not have committed (unavailable: the
// caller retries), yet nothing was proposed.
type notAudited struct{ err error }

func (e notAudited) Error() string {
	return "the request's audit record could not be committed, so it was not carried out: " + e.err.Error()
}

func (e notAudited) Is(target error) bool { return target == ErrMaybeCommitted }

// claimAudit puts ctx's record, if not yet taken, on c.
func claimAudit(ctx context.Context, n *Node, c *Command) error {
	return ClaimAudit(ctx, n.fsm, c)
}

// ClaimAudit puts ctx's record, if not yet taken, on c, a command that
// FSM f applies: a proposer other than a [Node] (the Byzantine mode's
// driver) calls it on each command it proposes, and [AuditApplied]
// once f applied it.
func ClaimAudit(ctx context.Context, f *FSM, c *Command) error {
	if c.Op == OpAudit || c.Audit != nil {
		return nil
	}
	rec, r, err := takeAudit(ctx, f)
	c.Audit, c.rider = rec, r
	return err
}

// AuditApplied tells the rider of c, a command whose record rode in
// it, that the FSM applied c and so chained the record; refused says
// the command was refused, so that the request's next command carries
// the record again.
func AuditApplied(c *Command, refused bool) {
	if c.rider == nil {
		return
	}
	c.rider.chained.Store(true)
	if refused {
		c.rider.taken.Store(false)
	}
}

// CarryAudit returns to carrying the audit rider of from (a request's
// context), for a proposer whose commands are made under another
// context (the Byzantine mode's driver), as [CarryNonce] carries the
// one-time keys.
func CarryAudit(to, from context.Context) context.Context {
	r, _ := from.Value(riderKey{}).(*AuditRider)
	if r == nil {
		return to
	}
	return context.WithValue(to, riderKey{}, r)
}

// chainRide chains the record that rode in command c, applied with
// outcome res: refused, it says why; a case's event names its case
// (a start's id may be chosen after the record was made). f.mu is held.
func (f *FSM) chainRide(c *Command, res *Result) {
	out := *c.Audit
	if c.Op == OpEvent && !slices.ContainsFunc(out.Targets, func(s string) bool { return strings.HasPrefix(s, "case_id=") }) {
		out.Targets = append(slices.Clip(out.Targets), "case_id="+c.Case)
	}
	switch {
	case res.Err != nil:
		out.Result = audit.ResultRefused
		out.Detail = joinAuditDetail(out.Detail, "the log refused it: "+res.Err.Error())
	case res.Dup:
		out.Detail = joinAuditDetail(out.Detail, fmt.Sprintf("a retry: the request was applied at raft index %d", res.Index))
	}
	clipAudit(&out)
	f.applyAudit(&out)
	res.Audited = true
}

// ChainRidden chains the record that rode in c, a command another FSM
// applied with outcome res (a tenant's space on a CometBFT chain, whose
// transactions carry their records into the cluster's own space's
// chain), as Apply chains a record riding in a command of its own.
func (f *FSM) ChainRidden(c *Command, res *Result) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.chainRide(c, res)
}

// TakeAuditRiding is [ClaimAudit] for a proposer whose command carries
// its record into the chain whatever the FSM it applies to (the
// CometBFT application chains a tenant's record itself): the record
// always rides in c, never as an intent.
func TakeAuditRiding(ctx context.Context, c *Command) error {
	r, _ := ctx.Value(riderKey{}).(*AuditRider)
	if r == nil {
		return nil
	}
	return ClaimAudit(ctx, r.home, c)
}

func joinAuditDetail(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
