// This file implements the cluster's audit chain on knhk serve --bft
// --tenants: the validator's front records the actions the cluster
// decides in the chain of the cluster's own space (runtime/cluster/bft
// audit.go), riding in the writes' own transactions, so that every
// validator's export is the same chain at the same block, anchored in
// its Merkle tree under the validator's own key.

package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/server/tenant"
)

// bftAudit is a validator's tenant.ClusterAudit: own is the validator
// (its chain, and its driver while it holds the lease); client and
// token call the driver's front.
type bftAudit struct {
	own    *bftOwner
	client *http.Client
	token  string
	// key is the validator's tree-head key, DATA/cluster/NAME/audit.key
	// (made on first use), as a raft node's (auditcluster.go).
	key func() (*sign.PrivateKey, error)
}

var _ tenant.ClusterAudit = (*bftAudit)(nil)

func (a *bftAudit) Node() string { return a.own.name }

// Chain is the cluster's own space's chain as this validator applied
// it, and the index of the transaction it applied last (its block's
// height and its place in it: runtime/cluster/bft's FinalizeBlock).
func (a *bftAudit) Chain() ([]audit.Record, uint64) { return a.own.app.FSM().AuditChain() }

// Propose commits rec in an audit transaction; the driver's only.
func (a *bftAudit) Propose(ctx context.Context, reqID string, rec audit.Record) error {
	d := a.own.driver()
	if d == nil {
		return a.own.NotLeader()
	}
	_, err := d.Audit(ctx, reqID, rec)
	return err
}

// Append commits rec through the driver: here when this validator
// drives, else through the driver's front.
func (a *bftAudit) Append(ctx context.Context, reqID string, rec audit.Record) error {
	return appendAtLeader(ctx, a, a.own, a.client, a.token, reqID, rec)
}

// Ride carries a call's record to its first transaction: in it for the
// cluster's own space, committed as an intent first for a tenant's.
func (a *bftAudit) Ride(ctx context.Context, build func() audit.Record, intent func(context.Context, audit.Record) error) (context.Context, tenant.AuditRide) {
	r := cluster.NewAuditRiderOn(a.own.app.FSM(), build, intent)
	return cluster.WithAudit(ctx, r), r
}

func (a *bftAudit) TreeKey() (*sign.PrivateKey, error) { return a.key() }

// errBFTCosign is why a validator's export carries its own signature
// of the tree head only: the validators know each other's consensus
// and p2p addresses, not their APIs, so none can ask the others; the
// CLI asks those the user names (auditcosigncli.go).
var errBFTCosign = errors.New("a validator does not know the other validators' APIs: name them with knhk audit export --cosign URLS to have them cosign")

// Cosign asks no one (errBFTCosign).
func (a *bftAudit) Cosign(context.Context, audit.TreeHead) ([]audit.TreeHead, []*sign.PublicKey, error) {
	return nil, nil, errBFTCosign
}
