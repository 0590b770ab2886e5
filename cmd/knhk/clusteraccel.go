// This file implements accelerator metering on a cluster node (knhk
// serve --node, each tenant's raft group under --node --tenants, and
// --bft): the group's steps and its API's queries share one runtime/meter
// Accelerator over the process's device, as a single knhk serve's
// (licenseaccel.go), so that their kernel calls are metered to the
// tenant whose cases they run, into this node's ledger beside the
// group's log and the group's /metrics, and kept on the CPU when the
// tenant's licence does not include the accelerator or its month's
// accelerator time is spent. Each node meters the calls it runs itself
// (the leader's steps, its own queries): a ledger is this node's. The
// usage report's accelerator time is the log's: a leader proposes its
// time with its commands (runtime/cluster's meter.go), and a follower
// posts its own to the leader (accelPath), which proposes it.

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"connectrpc.com/connect"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/license"
	"github.com/knhk/knhk/runtime/meter"
	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/auth"
)

// openClusterAccel meters the kernel calls of a group whose data
// directory on this node is dir, for tenant (empty: the default
// tenant), under gate's licence when gate is not nil; its metrics go on
// reg when reg is not nil.
func openClusterAccel(dir, tenant string, gate *cluster.LicenseGate, reg prometheus.Registerer, logger *slog.Logger) (*serveAccel, error) {
	if tenant == "" {
		tenant = auth.DefaultTenant
	}
	var l *license.License
	if gate != nil {
		l = gate.Enforcer().License()
	}
	a, err := newServeAccel(dir, tenant, l, logger)
	if err != nil {
		return nil, err
	}
	if prev := a.m.Allow; prev != nil {
		a.m.Allow = logAllow(prev, a.m)
	}
	if reg != nil {
		a.register(reg)
	}
	return a, nil
}

// clusterAccelLogs maps a node's *meter.Accelerator to the FSM of its
// group's log once the node is open (countAccelFromLog).
var clusterAccelLogs sync.Map

// countAccelFromLog makes the licence's accelerator_seconds_per_month
// check of a's calls count the month from n's replica of the log
// (every node's calls the log carries) plus what this node has not yet
// proposed, rather than this node's ledger alone.
func countAccelFromLog(a *serveAccel, n *cluster.Node) { clusterAccelLogs.Store(a.m, n.FSM()) }

// logAllow wraps prev, a licence's check of m's month, so that once
// m's node is open it is asked with the log's count (countAccelFromLog).
func logAllow(prev func(meter.AccelMonth) error, m *meter.Accelerator) func(meter.AccelMonth) error {
	return func(used meter.AccelMonth) error {
		if v, ok := clusterAccelLogs.Load(m); ok {
			month := meter.Month(time.Now().UnixNano())
			logged, pending := v.(*cluster.FSM).AccelMonth(month), m.PendingMonth(month)
			used = meter.AccelMonth{NS: logged.NS + pending.NS, Calls: logged.Calls + pending.Calls}
		}
		return prev(used)
	}
}

// gateOf is the node's licence gate (nil without --license).
func (g *nodeGate) gateOf() *cluster.LicenseGate {
	if g == nil {
		return nil
	}
	return g.g
}

// accelPath is where a follower posts the accelerator time its own
// queries' kernel calls took to its group's leader, with the nodes'
// token, for the leader to put into the group's log (a follower cannot
// propose): so a tenant's usage report counts every node's calls.
const accelPath = "/cluster/v1/accel"

// accelPost is the body of a post to accelPath.
type accelPost struct {
	// ID is the batch's request id: the log counts a batch sent again
	// with it once.
	ID    string             `json:"id,omitempty"`
	Group string             `json:"group"` // the tenant's group, "" for the cluster's own
	Accel []cluster.AccelUse `json:"accel"`
}

// withAccel serves accelPath in front of h: node picks the node of a
// group on this process (nil when it has none), token is the nodes'.
func withAccel(h http.Handler, token string, node func(group string) *cluster.Node) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != accelPath {
			h.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		if token == "" || !bearerIs(r, token) {
			// Billed time: only a node may add it. A cluster without
			// --token-file has no node's token, and a follower's time
			// waits until it leads.
			server.WriteError(w, r, connect.CodeUnauthenticated, "posting accelerator time needs the nodes' token (serve --token-file)")
			return
		}
		var p accelPost
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&p); err != nil {
			http.Error(w, fmt.Sprintf("accelerator time: %v", err), http.StatusBadRequest)
			return
		}
		n := node(p.Group)
		if n == nil {
			http.Error(w, fmt.Sprintf("no group %q on this node", p.Group), http.StatusNotFound)
			return
		}
		idx, err := n.ProposeAccel(r.Context(), p.ID, p.Accel)
		switch {
		case errors.Is(err, cluster.ErrNotLeader):
			http.Error(w, err.Error(), http.StatusServiceUnavailable) // nothing proposed: send it again
			return
		case errors.Is(err, cluster.ErrMaybeCommitted):
			http.Error(w, err.Error(), http.StatusConflict) // may be in the log: send it again with its id
			return
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]uint64{"index": idx})
	})
}

// accelForwardEvery is how often a follower posts its pending time.
const accelForwardEvery = time.Second

// forwardAccel posts, until ctx ends, the accelerator time a's calls
// took on this node while it follows group's leader (n's); a leader
// proposes its own (runtime/cluster's meter.go). A batch is sent with
// a request id, and sent again with it until the leader answers that it
// is in the log, so that none is lost and none is counted twice (the
// log counts a request id once); if this node leads meanwhile, it
// proposes the batch itself. Without the nodes' token (--token-file)
// the leader takes none: the time waits until this node leads.
func forwardAccel(ctx context.Context, n *cluster.Node, a *serveAccel, group string, sec server.ClusterSecurity) {
	if sec.Token == "" {
		return
	}
	c := sec.Client()
	t := time.NewTicker(accelForwardEvery)
	defer t.Stop()
	var held *accelPost // a batch not yet known to be in the log
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n.IsLeader() {
			if held != nil {
				_, err := n.ProposeAccel(ctx, held.ID, held.Accel)
				if !errors.Is(err, cluster.ErrNotLeader) && !errors.Is(err, cluster.ErrMaybeCommitted) {
					held = nil
				}
			}
			continue
		}
		_, api := n.Leader()
		if api == "" {
			continue
		}
		if held == nil {
			us := cluster.AccelUses(a.m.TakePending())
			if len(us) == 0 {
				continue
			}
			var id [8]byte
			rand.Read(id[:])
			held = &accelPost{ID: "accel-" + hex.EncodeToString(id[:]), Group: group, Accel: us}
		}
		if postAccel(ctx, c, api, *held) {
			held = nil
		}
	}
}

// postAccel posts p to the leader at api and reports whether the
// leader answered that it is in the log (false: send it again, with
// its request id).
func postAccel(ctx context.Context, c *http.Client, api string, p accelPost) bool {
	b, _ := json.Marshal(p)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	code, _, err := nodeCall(ctx, c, http.MethodPost, api, accelPath, b, "") // c carries the nodes' token
	return err == nil && code == http.StatusOK
}

// startAccelForward runs forwardAccel for the cluster's own group until
// the returned stop is called.
func startAccelForward(n *cluster.Node, a *serveAccel, sec server.ClusterSecurity) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		forwardAccel(ctx, n, a, "", sec)
	}()
	return func() { cancel(); <-done }
}

// groupNode is tenant id's group's node on this process, the cluster's
// own for "" (own), nil when it has none.
func (ct *clusterTenants) groupNode(own *cluster.Node, id string) *cluster.Node {
	if id == "" || id == auth.DefaultTenant {
		return own
	}
	if ct == nil {
		return nil
	}
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if g := ct.groups[id]; g != nil {
		return g.n
	}
	return nil
}
