// This file implements knhk usage report and verify --server on a raft
// cluster: the month is counted from the cluster's replicated log (a
// tenant's group's log with serve --tenants), as a node's FSM holds it
// and answers it at /cluster/v1/usage, each event's raft index as its
// sequence number. The report is signed here, with the operator's key,
// as a single server's is, and verify --server recounts it from any
// node and reconciles it field by field.

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/meter"
	"github.com/knhk/knhk/server/auth"
)

// usageLog is the replicated log a node counts usage from: a raft
// group's node, or a tenant's space of a CometBFT chain
// (clusterbftusage.go).
type usageLog interface {
	FSM() *cluster.FSM
	ID() string
	// WaitApplied waits until the node's replica has applied index at.
	WaitApplied(ctx context.Context, at uint64, settle time.Duration) error
}

// clusterUsage is a node's answer at usagePath.
type clusterUsage struct {
	Tenant string `json:"tenant"`
	Node   string `json:"node"`
	cluster.Usage
}

// meterUsage is u as runtime/meter counts a log: the raft indexes are
// the sequence numbers. The accelerator fields are what the log's
// commands carried (runtime/cluster's meter.go), not a node's ledger.
func (u *clusterUsage) meterUsage() meter.Usage {
	return meter.Usage{Version: meter.Version, Month: u.Month, Cases: u.Cases, Transitions: u.Transitions, Events: u.Events,
		TaskTimeNS: u.TaskTimeNS, StorageBytes: u.StorageBytes, FirstSeq: u.FirstIndex, LastSeq: u.LastIndex, Digest: u.Digest,
		AcceleratorNS: u.AcceleratorNS, AcceleratorCalls: u.AcceleratorCalls, AppliedIndex: u.Applied}
}

// reportTenant is the tenant a report of u names: none for the
// cluster's own cases (the default tenant), as a single server's.
func (u *clusterUsage) reportTenant() string {
	if u.Tenant == auth.DefaultTenant {
		return ""
	}
	return u.Tenant
}

// usageWait is how long a node waits to apply a report's raft index
// before it answers that it is behind (the CLI waits a little longer).
const usageWait = 30 * time.Second

// countClusterMonth asks the node at server for month of the log of the
// tenant the caller's token (credentials.go) is for, as of raft index
// at (0: all the node has applied).
func countClusterMonth(server, month string, at uint64) (*clusterUsage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), usageWait+30*time.Second)
	defer cancel()
	q := url.Values{"month": {month}}
	if at != 0 {
		q.Set("at", strconv.FormatUint(at, 10))
	}
	code, body, err := clusterCall(ctx, http.MethodGet, server, usagePath+"?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("usage from %s: %w", server, err)
	}
	switch code {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, fmt.Errorf("usage from %s: it serves no cluster usage (a single knhk serve: report from its data directory with --data)", server)
	default:
		return nil, fmt.Errorf("usage from %s: %s", server, errorText(body))
	}
	var u clusterUsage
	if err := json.Unmarshal([]byte(body), &u); err != nil || u.Month != month || u.Tenant == "" || at != 0 && u.Applied != at {
		return nil, fmt.Errorf("usage from %s: not a usage answer for %s: %.200s", server, month, body)
	}
	return &u, nil
}

// tenantMismatch refuses a report of tenant want made or checked with a
// token of another tenant (got). Unless exact, want "" takes the
// token's tenant (a report made without --tenant); exactly, "" is the
// cluster's own cases (a report that names no tenant).
func tenantMismatch(want string, exact bool, got *clusterUsage) error {
	if want == got.reportTenant() || want == "" && !exact {
		return nil
	}
	if want == "" {
		return fmt.Errorf("the report is of the cluster's own cases (no tenant), but the token reads tenant %s's log on node %s (KNHK_TOKEN: use the cluster's --token-file token)", got.Tenant, got.Node)
	}
	return fmt.Errorf("the report is for tenant %s, but the token reads tenant %s's log on node %s (KNHK_TOKEN: use %s's token)", want, got.Tenant, got.Node, want)
}

// serveUsage answers the usage of ?month= (default this month) of n's
// log, as this node's replica holds it, for tenant. With ?at=N (a
// report's applied_index) it first waits, up to usageWait, until the
// replica has applied raft index N, then counts only the entries up to
// N: what the replica that made the report counted, whichever node
// that was and however far the log has moved on since. An N beyond the
// log is a bad request; a node that cannot catch up in time says how
// far it got.
func serveUsage(w http.ResponseWriter, r *http.Request, n usageLog, tenant string) {
	q := r.URL.Query()
	month := q.Get("month")
	if month == "" {
		month = cluster.UsageMonth(time.Now().UnixNano())
	}
	if _, err := time.Parse("2006-01", month); err != nil {
		http.Error(w, fmt.Sprintf("month %q: want YYYY-MM", month), http.StatusBadRequest)
		return
	}
	var at uint64
	if s := q.Get("at"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil || v == 0 {
			http.Error(w, fmt.Sprintf("at %q: want a raft index (a positive integer)", s), http.StatusBadRequest)
			return
		}
		at = v
		ctx, cancel := context.WithTimeout(r.Context(), usageWait)
		err = n.WaitApplied(ctx, at, 3*time.Second)
		cancel()
		switch {
		case errors.Is(err, cluster.ErrBeyondLog):
			http.Error(w, fmt.Sprintf("tenant %s: the report's applied_index is %v", tenant, err), http.StatusBadRequest)
			return
		case err != nil:
			http.Error(w, fmt.Sprintf("tenant %s: the report was counted at %v", tenant, err), http.StatusServiceUnavailable)
			return
		}
	}
	u, err := n.FSM().UsageAt(month, at)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(clusterUsage{Tenant: tenant, Node: n.ID(), Usage: u})
}
