// This file implements the cluster side of a node's audit (server/tenant
// auditcluster.go): the records of the actions the cluster decides go
// through the cluster's own raft log (runtime/cluster's OpAudit), so that
// every node's export is the same chain.

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/server/tenant"
)

// nodeAudit is a node's tenant.ClusterAudit: own is the node of the
// cluster's own group; client and token call the leader's front.
type nodeAudit struct {
	own    *cluster.Node
	client *http.Client
	token  string
}

func (a *nodeAudit) Node() string { return a.own.ID() }

func (a *nodeAudit) Chain() ([]audit.Record, uint64) { return a.own.FSM().AuditChain() }

func (a *nodeAudit) Propose(ctx context.Context, reqID string, rec audit.Record) error {
	_, err := a.own.Audit(ctx, reqID, rec)
	return err
}

// Append proposes rec on the leader, or hands it to the leader's front.
func (a *nodeAudit) Append(ctx context.Context, reqID string, rec audit.Record) error {
	if a.own.IsLeader() {
		return a.Propose(ctx, reqID, rec)
	}
	_, api := a.own.Leader()
	if api == "" {
		return a.own.NotLeader()
	}
	b, _ := json.Marshal(tenant.ClusterAuditAppend{Req: reqID, Record: rec})
	code, resp, err := nodeCall(ctx, a.client, http.MethodPost, api, tenant.ClusterAuditPath, b, a.token)
	if err != nil {
		return fmt.Errorf("the leader %s: %v", api, err)
	}
	if code != http.StatusNoContent {
		return fmt.Errorf("the leader %s: %d %s %s", api, code, http.StatusText(code), strings.TrimSpace(resp))
	}
	return nil
}

// auditCluster makes the node's front record the actions the cluster
// decides in the cluster's chain, and audits the cluster's tenant
// administration (admin, a route outside the host) likewise.
func (ct *clusterTenants) auditCluster(admin http.HandlerFunc) http.Handler {
	c := &nodeAudit{own: ct.own, client: ct.client, token: ct.token}
	ct.aud.cluster = c
	return ct.host.AuditedRoute(ct.aud.log, c, admin)
}
