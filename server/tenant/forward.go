// This file implements the principal a cluster node's front forwards
// with a call: a follower's front hands a tenant's call to the tenant's
// raft group, whose API forwards a write to the group's leader, on
// another node, with the caller's headers. A bearer token travels in
// them and the leader's front verifies it again; a client certificate
// does not travel, nor does a console session (it lives in the
// follower's memory), so for those the follower's front adds the
// principal it verified and the nodes' own token that vouches for it.
// The leader's front takes
// the principal from the header only from a call that bears the nodes'
// token ([Options.NodeToken]), and drops the header from any other.

package tenant

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/knhk/knhk/server/auth"
)

// ForwardedPrincipalHeader carries the principal a node's front
// verified to the front of the node its call is forwarded to.
const ForwardedPrincipalHeader = "Knhk-Forwarded-Principal"

// forwarded is the header's content, base64url JSON.
type forwarded struct {
	Tenant  string    `json:"tenant"`
	Subject string    `json:"sub"`
	Role    auth.Role `json:"role"`
	ID      string    `json:"jti,omitempty"`
}

func encodeForwarded(p auth.Principal) string {
	b, _ := json.Marshal(forwarded{Tenant: p.Tenant, Subject: p.Subject, Role: p.Role, ID: p.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeForwarded decodes the header; a principal of no tenant, or of
// a role outside the four, is refused.
func decodeForwarded(s string) (auth.Principal, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return auth.Principal{}, fmt.Errorf("bad %s header: %v", ForwardedPrincipalHeader, err)
	}
	var f forwarded
	if err := json.Unmarshal(b, &f); err != nil {
		return auth.Principal{}, fmt.Errorf("bad %s header: %v", ForwardedPrincipalHeader, err)
	}
	if CheckID(f.Tenant) != nil || f.Role < auth.RoleViewer || f.Role > auth.RoleAdmin {
		return auth.Principal{}, fmt.Errorf("bad %s header: tenant %q, role %d", ForwardedPrincipalHeader, f.Tenant, f.Role)
	}
	return auth.Principal{Tenant: f.Tenant, Subject: f.Subject, Role: f.Role, ID: f.ID}, nil
}

// fromNode reports whether r bears the nodes' token.
func (h *Host) fromNode(r *http.Request) bool {
	if h.opts.NodeToken == "" {
		return false
	}
	tok, ok := bearer(r)
	return ok && r.Header.Get("Authorization") != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(h.opts.NodeToken)) == 1
}

// markForward adds p, and the nodes' token that vouches for it, to a
// call handed to a tenant's group that carries no bearer token of its
// own, for the leader's front should the group forward the call (the
// group's API forwards the caller's headers).
func (h *Host) markForward(r *http.Request, p auth.Principal) {
	// A call that came with the nodes' token and a principal keeps it.
	if h.opts.NodeToken != "" && (r.Header.Get("Authorization") == "" || h.fromNode(r)) {
		r.Header.Set(ForwardedPrincipalHeader, encodeForwarded(p))
		r.Header.Set("Authorization", "Bearer "+h.opts.NodeToken)
	}
}
