// This file implements knhk tenant --server URL: the tenants of a raft
// cluster (knhk serve --node --tenants), administered through any of
// its nodes (clustertenantadmin.go) with the cluster's token (the CLI's
// bearer token: KNHK_TOKEN, KNHK_TOKEN_FILE or the config file).

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/knhk/knhk/server/auth"
)

// runTenantRemote runs subcommand sub on tenant id through the node at
// server. A call the cluster answers may be retried (no leader yet, an
// unknown outcome) is retried with the same request id, so it takes
// effect once.
func runTenantRemote(e *env, server, sub, id string, q tenantAdminRequest) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if sub == "list" {
		resp, err := tenantCall(ctx, server, http.MethodGet, nil)
		if err != nil {
			return tenantFail(e, err)
		}
		var ans tenantListAnswer
		if err := json.Unmarshal([]byte(resp), &ans); err != nil {
			return tenantFail(e, fmt.Errorf("bad answer from %s: %v", server, err))
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TENANT\tSTATE\tCREATED\tRATE\tBURST\tMAX-RUNNING\tOWN\tFOUNDER\tGROUP (ON "+ans.Node+")")
		for _, t := range ans.Tenants {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.State, t.Created.Format(time.RFC3339), limit(t.Quota.Rate), limit(float64(t.Quota.Burst)), limit(float64(t.Quota.MaxRunning)), t.Own, orDefault(t.Founder, "-"), orDefault(t.Group, "-"))
		}
		tw.Flush()
		return exitOK
	}
	q.Op, q.ID, q.Req = sub, id, auth.NewTokenID()
	b, _ := json.Marshal(&q)
	resp, err := tenantCall(ctx, server, http.MethodPost, b)
	if err != nil {
		return tenantFail(e, err)
	}
	var ans tenantAdminAnswer
	err = json.Unmarshal([]byte(resp), &ans)
	if err == nil && ans.Tenant == nil {
		err = errors.New("it names no tenant")
	}
	if err != nil {
		return tenantFail(e, fmt.Errorf("bad answer from %s: %v: %.200s", server, err, resp))
	}
	switch sub {
	case "create", "token":
		fmt.Fprintf(e.stderr, "token id %s (signed by node %s)\n", ans.TokenID, ans.Node)
		if sub == "create" {
			fmt.Fprintf(e.stderr, "created tenant %s on the cluster (revision %d); its admin token (valid %s) follows\n", id, ans.Rev, orDefault(q.TTL, "720h0m0s"))
		}
		fmt.Fprintln(e.stdout, ans.Token)
	case "set":
		t := ans.Tenant
		fmt.Fprintf(e.stderr, "tenant %s: rate %s, burst %s, max-running %s\n", id, limit(t.Quota.Rate), limit(float64(t.Quota.Burst)), limit(float64(t.Quota.MaxRunning)))
	case "delete":
		fmt.Fprintf(e.stderr, "tenant %s deleted; every node erases its data once it applies revision %d\n", id, ans.Rev)
	case "revoke":
		fmt.Fprintf(e.stderr, "revoked for tenant %s on every node that applied revision %d\n", id, ans.Rev)
	case "erase":
		fmt.Fprintf(e.stderr, "tenant %s erased; every node destroys its key and its copy once it applies revision %d\n", id, ans.Rev)
	default:
		fmt.Fprintf(e.stderr, "tenant %s %s\n", id, ans.Tenant.State)
	}
	return exitOK
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// tenantCall makes an administration call (clusterRetry) and returns
// the answer, or the cluster's error unless it answered 200.
func tenantCall(ctx context.Context, server, method string, body []byte) (string, error) {
	code, resp, err := clusterRetry(ctx, method, server, tenantsPath, body)
	if err == nil && code != http.StatusOK {
		err = errors.New(errorText(resp))
	}
	return resp, err
}
