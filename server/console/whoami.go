// This file implements GET /console/api/whoami: the caller as the server
// authenticated it, so that the console's login page can check a token
// before keeping it and its tenant switcher can label each credential.

package console

import (
	"net/http"
	"time"

	"github.com/knhk/knhk/server/auth"
)

// whoamiView is the JSON of GET /console/api/whoami.
type whoamiView struct {
	Tenant  string `json:"tenant"`
	Subject string `json:"subject"`
	Role    string `json:"role"`
	// Expires is when the credential expires (RFC 3339), empty when it
	// does not.
	Expires string `json:"expires,omitempty"`
	// Tenants is false on a server without --tenants: one tenant, and
	// at most one shared token.
	Tenants bool `json:"tenants"`
}

func whoami(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.FromContext(r.Context())
	if !ok {
		writeJSON(w, whoamiView{Tenant: auth.DefaultTenant})
		return
	}
	v := whoamiView{Tenant: p.Tenant, Subject: p.Subject, Role: p.Role.String(), Tenants: true}
	if !p.Expires.IsZero() {
		v.Expires = p.Expires.UTC().Format(time.RFC3339)
	}
	writeJSON(w, v)
}
