// This file implements tenants served by something other than a single
// Service: a cluster node's raft group of the tenant (knhk serve --node
// --tenants), which replicates the tenant's cases, programs and queues
// on every node. The front authenticates and authorises a call as for a
// Service and hands it to the tenant's own group, so isolation stays by
// construction: another tenant's ids are unknown to the group a call
// reaches.

package tenant

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"connectrpc.com/connect"

	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/auth"
)

// Group is a tenant's handler when [Options.OpenGroup] opens tenants.
type Group interface {
	// ServeHTTP answers the tenant's calls, authenticated and authorised
	// by the front (the caller's principal is in the context).
	http.Handler
	// Running counts the tenant's cases running now (the MaxRunning
	// quota's count).
	Running() int
	// Close stops serving the tenant on this node; its data stays.
	Close(ctx context.Context) error
}

// membersPath is the cluster API's membership route (join, remove).
const membersPath = "/cluster/v1/members"

// groupRequired returns the least role a call of a tenant's group
// needs: the API methods' and pages' roles (auth.Required), and for the
// cluster's JSON routes those of the methods they match (reads:
// viewer; starts, signals and cancels: operator); anything else needs
// an admin.
func groupRequired(r *http.Request) auth.Role {
	if need, ok := auth.Required(r); ok {
		return need
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, "/cluster/v1/"); ok {
		switch {
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
			return auth.RoleViewer
		case r.Method == http.MethodPost && (rest == "cases" || strings.HasPrefix(rest, "cases/") && (strings.HasSuffix(rest, "/signal") || strings.HasSuffix(rest, "/cancel"))):
			return auth.RoleOperator
		}
	}
	return auth.RoleAdmin
}

// errGroupErase refuses knhk case erase --server on a tenant group.
var errGroupErase = errors.New("erasing a tenant's cases through a cluster node is not supported yet; the tenant's data on every node goes with knhk tenant delete")

// serveGroup answers a call of tenant t's group: the route's role is
// checked here, since the group's handler has no Authorize of its own.
func (h *Host) serveGroup(t *served, w http.ResponseWriter, r *http.Request) {
	p, ok := auth.FromContext(r.Context())
	if !ok || p.Tenant != t.id {
		server.WriteError(w, r, connect.CodeUnauthenticated, "the call's credential is not the tenant's")
		return
	}
	if need := groupRequired(r); p.Role < need {
		server.WriteError(w, r, connect.CodePermissionDenied, fmt.Sprintf("role %s may not call %s %s (needs %s)", p.Role, r.Method, r.URL.Path, need))
		return
	}
	if strings.HasPrefix(r.URL.Path, membersPath) {
		// The group's members follow the cluster's; a tenant's admin
		// is no admin of the cluster.
		server.WriteError(w, r, connect.CodePermissionDenied, fmt.Sprintf("tenant %s may not change the cluster's members", t.id))
		return
	}
	h.markForward(r, p) // forward.go
	t.group.ServeHTTP(w, r)
}
