// This file implements the cluster side of a node's audit (server/tenant
// auditcluster.go): the records of the actions the cluster decides go
// through the cluster's own raft log (riding in their writes' entries,
// runtime/cluster's auditride.go, or as OpAudit entries), so that every
// node's export is the same chain, anchored in its Merkle tree under the
// node's own key.

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/server/tenant"
)

// nodeAudit is a node's tenant.ClusterAudit: own is the node of the
// cluster's own group; client and token call the leader's front.
type nodeAudit struct {
	own    *cluster.Node
	client *http.Client
	token  string
	// key is the node's tree-head key, DIR/cluster/NODE/audit.key
	// (made on first use); its public half, audit.pub beside it, is
	// what an auditor trusts (knhk audit verify --trust).
	key func() (*sign.PrivateKey, error)
}

// Cosign asks every other member of the cluster for its signature of
// head's tree, at most 5 s; a node that does not answer, or answers with
// another tree, is left out, and the error says why.
func (a *nodeAudit) Cosign(ctx context.Context, head audit.TreeHead) ([]audit.TreeHead, []*sign.PublicKey, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	body, _ := json.Marshal(tenant.ClusterCosignRequest{Size: head.Size, Root: head.Root})
	members := a.own.FSM().Members()
	ids := slices.Sorted(maps.Keys(members))
	heads := make([]*audit.TreeHead, len(ids))
	keys := make([]*sign.PublicKey, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		m := members[id]
		if id == a.own.ID() || m.Remove || m.API == "" {
			continue
		}
		wg.Go(func() {
			code, b, err := nodeCall(ctx, a.client, http.MethodPost, m.API, tenant.ClusterTreeHeadPath, body, a.token)
			if err == nil && code != http.StatusOK {
				err = fmt.Errorf("%d %s", code, strings.TrimSpace(b))
			}
			if err == nil {
				heads[i], keys[i], err = tenant.CheckCosigned([]byte(b), head)
			}
			if err != nil {
				errs[i] = fmt.Errorf("node %s did not cosign the audit tree head: %w", id, err)
			}
		})
	}
	wg.Wait()
	var hs []audit.TreeHead
	var ks []*sign.PublicKey
	for i := range ids {
		if heads[i] != nil {
			hs, ks = append(hs, *heads[i]), append(ks, keys[i])
		}
	}
	return hs, ks, errors.Join(errs...)
}

// TreeKey returns the node's tree-head key.
func (a *nodeAudit) TreeKey() (*sign.PrivateKey, error) { return a.key() }

// nodeAuditKey returns node's tree-head key in data, made on first use.
func nodeAuditKey(data, node string) func() (*sign.PrivateKey, error) {
	dir := filepath.Join(data, "cluster", node)
	return sync.OnceValues(func() (*sign.PrivateKey, error) {
		return tenant.KeyAt(filepath.Join(dir, "audit.key"), filepath.Join(dir, "audit.pub"), sign.MLDSA65Ed25519)
	})
}

func (a *nodeAudit) Node() string { return a.own.ID() }

func (a *nodeAudit) Chain() ([]audit.Record, uint64) { return a.own.FSM().AuditChain() }

func (a *nodeAudit) Propose(ctx context.Context, reqID string, rec audit.Record) error {
	_, err := a.own.Audit(ctx, reqID, rec)
	return err
}

// Ride carries a call's record to its first write (runtime/cluster's
// auditride.go): riding in it when the write is the cluster's own
// group's, committed by intent first when it is a tenant group's.
func (a *nodeAudit) Ride(ctx context.Context, build func() audit.Record, intent func(context.Context, audit.Record) error) (context.Context, tenant.AuditRide) {
	r := cluster.NewAuditRider(a.own, build, intent)
	return cluster.WithAudit(ctx, r), r
}

// Append proposes rec on the leader, or hands it to the leader's front.
func (a *nodeAudit) Append(ctx context.Context, reqID string, rec audit.Record) error {
	return appendAtLeader(ctx, a, a.own, a.client, a.token, reqID, rec)
}

// leading is who commits the cluster's writes: the raft leader, or the
// driver of a CometBFT chain (tenancyOwner's part of it).
type leading interface {
	IsLeader() bool
	Leader() (id, api string)
	NotLeader() error
}

// appendAtLeader proposes rec through c when own leads (drives, on a
// CometBFT chain), or hands it to the leader's front with the nodes'
// token.
func appendAtLeader(ctx context.Context, c tenant.ClusterAudit, own leading, client *http.Client, token, reqID string, rec audit.Record) error {
	if own.IsLeader() {
		return c.Propose(ctx, reqID, rec)
	}
	_, api := own.Leader()
	if api == "" {
		return own.NotLeader()
	}
	b, _ := json.Marshal(tenant.ClusterAuditAppend{Req: reqID, Record: rec})
	code, resp, err := nodeCall(ctx, client, http.MethodPost, api, tenant.ClusterAuditPath, b, token)
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
	faultAfterClusterWrite(os.Getenv("KNHK_FAULT"), ct.data)
	c := &nodeAudit{own: ct.own.(*cluster.Node), client: ct.client, token: ct.token, key: nodeAuditKey(ct.data, ct.own.ID())}
	ct.aud.cluster = c
	return ct.host.AuditedRoute(ct.aud.log, c, admin)
}

// faultAfterClusterWrite arms the crash tests' fault: with
// KNHK_FAULT=file, a node whose data directory holds a file "fault"
// reading exit-after-cluster-write=TEXT exits, as a crash would, once
// it has carried out a call the cluster decides whose action contains
// TEXT, before anything else is recorded of it. The file is read at
// each such call, so a test arms the node it picks when it picks it.
func faultAfterClusterWrite(setting, data string) {
	if setting != "file" {
		return
	}
	path := filepath.Join(data, "fault")
	tenant.FaultAfterClusterWrite = func(rec audit.Record) {
		b, _ := os.ReadFile(path)
		text, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "exit-after-cluster-write=")
		if ok && text != "" && strings.Contains(rec.Action, text) {
			fmt.Fprintf(os.Stderr, "knhk: KNHK_FAULT: exiting after %s\n", rec.Action)
			os.Exit(3)
		}
	}
}
