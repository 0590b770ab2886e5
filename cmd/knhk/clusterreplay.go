// This file implements replay protection across a raft cluster's
// nodes (knhk serve --node --tenants): the one-time keys of a call the
// front let through (its request nonce, its one-time token) go into
// the group's log with the first command the call proposes, and every
// replica refuses a command whose key the log used before
// (runtime/cluster's nonce.go). A captured call replayed to another
// node, or to a new leader after a failover, is refused there too.

package main

import (
	"net/http"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/server/tenant"
)

// withOneTimeKeys returns r carrying its one-time keys for the log.
func withOneTimeKeys(r *http.Request) *http.Request {
	keys, bind, at, until := tenant.OneTimeKeys(r)
	if len(keys) == 0 {
		return r
	}
	return r.WithContext(cluster.WithNonce(r.Context(), keys, bind, at, until))
}
