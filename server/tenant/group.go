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

// errGroupErase refuses knhk case erase --server on a tenant group.
var errGroupErase = errors.New("erasing a tenant's cases through a cluster node is not supported yet; the tenant's data on every node goes with knhk tenant delete")

// serveGroup answers a call of tenant t's group: the route's role is
// checked here, since the group's handler has no Authorize of its own.
func (h *Host) serveGroup(t *served, w http.ResponseWriter, r *http.Request) {
	if err := h.Authorizer(t.id)(r); err != nil {
		server.WriteError(w, r, connect.CodeOf(err), err.Error())
		return
	}
	if strings.HasPrefix(r.URL.Path, membersPath) {
		// The group's members follow the cluster's; a tenant's admin
		// is no admin of the cluster.
		server.WriteError(w, r, connect.CodePermissionDenied, fmt.Sprintf("tenant %s may not change the cluster's members", t.id))
		return
	}
	t.group.ServeHTTP(w, r)
}
