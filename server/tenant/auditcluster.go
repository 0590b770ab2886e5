// This file implements the audit of a raft cluster node's front: the
// actions the cluster decides (deploys, starts, signals, cancels,
// erasures, tenant and licence administration, members joining) are
// recorded in the cluster's audit chain, which travels through the raft
// log so that every node holds the same chain (runtime/cluster's
// OpAudit); a read a node answers is recorded in that node's own audit
// log, and its record says so. The export of a node is the cluster's
// chain: the same records and hashes from every node at one applied
// index.
//
// The node that carries the call out records it, no later than the
// call's first write (ride; runtime/cluster's auditride.go): the record
// rides in the write's entry of the cluster's own log, or, for a write
// of a tenant's group, is committed to the chain as an intent before the
// write is proposed, its outcome following. A call a follower forwarded
// to the leader (Knhk-Forwarded-By) is recorded by the leader, and the
// follower notes it in its own log only. A record appended on its own (a
// refusal, an outcome) from a follower is handed to the leader's front
// (ClusterAuditPath, with the nodes' token), which proposes it.

package tenant

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/auth"
)

// ClusterAuditPath is the route by which a node hands the leader a
// record for the cluster's audit chain: POST, the nodes' token only.
const ClusterAuditPath = "/cluster/v1/audit/append"

// NodeLocalScope, as the export's scope parameter on a cluster node,
// asks for the node's own log (reads it answered, calls forwarded to
// it) rather than the cluster's chain.
const NodeLocalScope = "node"

// ClusterChainScope is in the scope of a cluster node's export.
const ClusterChainScope = "the cluster's audit chain"

// ClusterAuditAppliedHeader says, on a cluster node's audit export, the
// raft index the node had applied: two nodes' exports at one index are
// the same chain.
const ClusterAuditAppliedHeader = "Knhk-Audit-Applied"

// ClusterAudit is a cluster node's side of the cluster's audit chain.
type ClusterAudit interface {
	// Node names this node.
	Node() string
	// Append records rec in the cluster's chain with request id reqID
	// (a retry with it appends once): proposed here on the leader,
	// handed to the leader's ClusterAuditPath from a follower.
	Append(ctx context.Context, reqID string, rec audit.Record) error
	// Propose proposes rec to the log; the leader's only.
	Propose(ctx context.Context, reqID string, rec audit.Record) error
	// Chain returns the chain as this node applied it and the raft index
	// it applied.
	Chain() ([]audit.Record, uint64)
	// Ride returns ctx carrying the record of the call it serves, which
	// build makes once the call's first write takes it: the record rides
	// in that write's command when the write goes to the chain's own
	// log, else intent commits it to the chain before the write is
	// proposed (runtime/cluster's auditride.go).
	Ride(ctx context.Context, build func() audit.Record, intent func(context.Context, audit.Record) error) (context.Context, AuditRide)
	// TreeKey is the node's own key, which signs the head of the
	// chain's Merkle tree in an export (runtime/audit's treehead.go).
	TreeKey() (*sign.PrivateKey, error)
	// Cosign asks the cluster's other nodes to sign head's tree from
	// their replicas (ClusterTreeHeadPath) and returns the heads that
	// came back, checked, with the keys they verify with.
	// The error names the nodes that did not.
	Cosign(ctx context.Context, head audit.TreeHead) ([]audit.TreeHead, []*sign.PublicKey, error)
}

// AuditRide says where a call's record went (runtime/cluster's
// AuditRider).
type AuditRide interface {
	// Chained: it rode into the chain with a write the log applied.
	Chained() bool
	// Intended: it was committed as an intent; its outcome is to add.
	Intended() bool
	// Forwarded: the call was handed to the leader, which records it.
	Forwarded() bool
}

// AuditedCluster returns h with every call audited: those the cluster
// decides in c's chain, the others in log; and the export route (of
// c's chain) added.
func (h *Host) AuditedCluster(log *audit.Log, c ClusterAudit) http.Handler {
	return &auditFront{h: h, log: log, cluster: c}
}

// AuditedRoute returns next, a route a cluster node serves outside the
// host (the cluster's tenant administration, with the nodes' token),
// audited as AuditedCluster audits the host's calls.
func (h *Host) AuditedRoute(log *audit.Log, c ClusterAudit, next http.Handler) http.Handler {
	return &auditFront{h: h, log: log, cluster: c, next: next}
}

// clusterMethods are the API methods whose calls the cluster decides.
var clusterMethods = map[string]bool{"Deploy": true, "StartCase": true, "SignalCase": true, "CancelCase": true}

// clusterDecided says whether r is an action the cluster decides (its
// record goes into the cluster's chain) rather than a read this node
// answers.
func clusterDecided(r *http.Request) bool {
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, auth.ServicePath):
		return clusterMethods[strings.TrimPrefix(p, auth.ServicePath)]
	case p == ErasePath:
		return true
	case strings.HasPrefix(p, "/cluster/v1/"):
		return r.Method != http.MethodGet && r.Method != http.MethodHead
	}
	return false
}

// ride makes the record of call r (rec, filled in with the caller that
// slot will hold) go into the cluster's chain no later than the call's
// first write (auditride.go in runtime/cluster): an acknowledged write
// always has its record, a crash between the write and a separate
// record notwithstanding.
func (a *auditFront) ride(r *http.Request, rec *audit.Record, slot *callerSlot) (*http.Request, AuditRide, string) {
	id := make([]byte, 12)
	rand.Read(id)
	req := "audit_req=" + a.cluster.Node() + "-" + hex.EncodeToString(id)
	build := func() audit.Record {
		out := *rec
		out.Targets = append([]string(nil), rec.Targets...)
		slot.fill(&out)
		out.Targets = append(out.Targets, req)
		out.Result, out.Time = audit.ResultOK, time.Now().UTC().Format(time.RFC3339Nano)
		out.Remote, out.Detail = a.h.forwardedFrom(r, out.Remote, out.Detail)
		return out
	}
	intent := func(ctx context.Context, rec audit.Record) error {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return appendRetrying(ctx, a.cluster, rec)
	}
	ctx, ride := a.cluster.Ride(r.Context(), build, intent)
	return r.WithContext(ctx), ride, req
}

// FaultAfterClusterWrite, when set, is called once a call the cluster
// decides has been carried out here, before its record is added
// separately: the crash tests end the process there (knhk serve's
// KNHK_FAULT=file). Nil in service.
var FaultAfterClusterWrite func(rec audit.Record)

// recordCluster records rec of call r: in the cluster's chain when the
// cluster decides it (and admitted it: an authenticated caller within
// its rate), unless it rode there with its write (ride), or the node
// forwarded the call to the leader, whose front records it; else (or
// when the chain cannot take it now) in the node's own log, saying why.
func (a *auditFront) recordCluster(r *http.Request, rec audit.Record, admitted bool, ride AuditRide, req string) {
	node := a.cluster.Node()
	if FaultAfterClusterWrite != nil && admitted && clusterDecided(r) && (ride == nil || !ride.Forwarded()) {
		FaultAfterClusterWrite(rec)
	}
	switch {
	case ride != nil && ride.Chained():
		return // it rode with its write
	case !admitted:
		rec.Detail = joinDetail(rec.Detail, "node-local: refused by node "+node+" before admission")
		a.h.appendRefused(a.log, rec) // auditrefused.go
		return
	case !clusterDecided(r):
		rec.Detail = joinDetail(rec.Detail, "node-local: answered by node "+node)
	case ride != nil && ride.Forwarded():
		rec.Detail = joinDetail(rec.Detail, "node-local: forwarded by node "+node+" to the leader, whose record is in the cluster's chain")
	default:
		rec.Remote, rec.Detail = a.h.forwardedFrom(r, rec.Remote, rec.Detail)
		rec.Time = time.Now().UTC().Format(time.RFC3339Nano)
		if ride != nil && ride.Intended() {
			// The intent in the chain already covers the action: its
			// outcome does not hold the answer (a crash before it is
			// committed leaves the intent alone, outcome unknown).
			rec.Targets = append(rec.Targets, req)
			rec.Detail = joinDetail(rec.Detail, "the outcome of the intent record with its audit_req")
			a.h.outcomes.Add(1)
			go func() {
				defer a.h.outcomes.Done()
				a.appendChain(rec)
			}()
			return
		}
		a.appendChain(rec)
		return
	}
	a.h.appendLogged(a.log, rec)
}

// appendChain appends rec to the cluster's chain, retrying for 10 s, or
// else to the node's own log, saying why.
func (a *auditFront) appendChain(rec audit.Record) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err := appendRetrying(ctx, a.cluster, rec)
	cancel()
	if err == nil {
		return
	}
	a.h.opts.Logf("audit: the cluster's chain: %v", err)
	rec.Detail = joinDetail(rec.Detail, fmt.Sprintf("node-local: node %s could not add it to the cluster's chain: %v", a.cluster.Node(), err))
	a.h.appendLogged(a.log, rec)
}

// appendRetrying appends rec to c's chain with one request id until it
// is taken or ctx ends: a leader change in between is retried.
func appendRetrying(ctx context.Context, c ClusterAudit, rec audit.Record) error {
	var id [12]byte
	rand.Read(id[:])
	reqID := "audit-" + c.Node() + "-" + hex.EncodeToString(id[:])
	for {
		err := c.Append(ctx, reqID, rec)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// forwardedFrom returns the remote and detail of the record of r, a
// call a node forwarded to this one: its client's address as that node
// gave it, and the detail saying which node forwarded it, from where,
// when the node vouched for both with the nodes' key (server's
// forwardvouch.go). A claim without that vouch (a client that set the
// headers itself) keeps remote, the connection's own address, and the
// detail notes the claim, quoted and bounded, and why it was not
// believed. The call itself goes on as it would without the headers:
// refusing it would gain nothing (the record holds the truth) and would
// fail a genuine forward whose vouch a clock step made stale. A call
// that claims nothing keeps both.
func (h *Host) forwardedFrom(r *http.Request, remote, detail string) (string, string) {
	by, client, claimed, err := server.VerifyForwarded(r, h.fwdKey, h.opts.Now())
	switch {
	case !claimed:
		return remote, detail
	case err != nil:
		return remote, joinDetail(detail, err.Error()+"; the connection's address recorded")
	}
	return client, joinDetail(detail, fmt.Sprintf("forwarded by node %s (connection from %s)", by, remote))
}

func joinDetail(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// ClusterAuditAppend is the body of a ClusterAuditPath call.
type ClusterAuditAppend struct {
	Req    string       `json:"req"`
	Record audit.Record `json:"record"`
}

// serveClusterAppend answers a node's ClusterAuditPath call: the leader
// proposes the record.
func (h *Host) serveClusterAppend(w http.ResponseWriter, r *http.Request, c ClusterAudit) {
	var q ClusterAuditAppend
	if !h.nodePost(w, r, "adding to the cluster's audit chain", "an audit record for the cluster's chain", 1<<20, &q, func() error {
		if q.Req == "" {
			return errors.New("no request id (req)")
		}
		return nil
	}) {
		return
	}
	if err := c.Propose(r.Context(), q.Req, q.Record); err != nil {
		server.WriteError(w, r, connect.CodeUnavailable, err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// nodePost reads the JSON body of a node's call of what into q (at most
// limit bytes, no unknown field, check() nil), answering a call without
// the nodes' token, not a POST or with another body itself; it reports
// whether the call goes on.
func (h *Host) nodePost(w http.ResponseWriter, r *http.Request, what, body string, limit int64, q any, check func() error) bool {
	if !h.fromNode(r) {
		server.WriteError(w, r, connect.CodeUnauthenticated, what+" needs the nodes' token")
		return false
	}
	if r.Method != http.MethodPost {
		server.WriteError(w, r, connect.CodeInvalidArgument, what+" is a POST")
		return false
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, limit))
	dec.DisallowUnknownFields()
	err := dec.Decode(q)
	if err == nil {
		err = check()
	}
	if err != nil {
		server.WriteError(w, r, connect.CodeInvalidArgument, fmt.Sprintf("not %s: %v", body, err))
		return false
	}
	return true
}

// adminTargets returns the ids a cluster tenant administration call
// names (its JSON body's op, tenant id, role, subject, serial, token
// id), putting the body back; never a token or key.
func adminTargets(r *http.Request) (op string, targets []string) {
	if r.Body == nil || r.Method != http.MethodPost {
		return "", nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = readCloser{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
	if err != nil {
		return "", nil
	}
	var q map[string]any
	if json.Unmarshal(b, &q) != nil {
		return "", nil
	}
	op, _ = q["op"].(string)
	for _, k := range []string{"id", "role", "subject", "serial", "jti", "tier"} {
		if s, ok := q[k].(string); ok && s != "" {
			name := k
			if k == "id" {
				name = "tenant"
			}
			targets = append(targets, name+"="+s)
		}
	}
	return op, targets
}
