// This file is the one place that says which credential a request
// presents and who it authenticates, so that every route that
// authenticates (the tenants' API and console, the audit export, the
// erasure) accepts the same credentials in the same order, and the
// audit names the kind the route actually used.

package tenant

import (
	"net/http"

	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/server/auth"
)

// CredSession is the audit's credential kind of a call made with a
// console session cookie (session.go); the record's subject is the
// session's, and a target jti=ID names the token it was opened with.
const CredSession = "session"

// credentialOf returns the kind of credential r presents, in the order
// authenticate tries them: an Authorization header, else the console's
// session cookie, else the knhk-token cookie, else a verified client
// certificate.
func credentialOf(r *http.Request) string {
	if r.Header.Get("Authorization") == "" {
		if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
			return CredSession
		}
	}
	if _, ok := bearer(r); ok {
		return audit.CredToken
	}
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		return audit.CredCertificate
	}
	return audit.CredNone
}

// authenticate returns the principal of r's credential (credentialOf),
// checked against the revocation lists; has is false when r presents
// none.
func (h *Host) authenticate(r *http.Request) (p auth.Principal, has bool, err error) {
	switch credentialOf(r) {
	case CredSession:
		p, err = h.sessionPrincipal(r)
		if err == nil {
			err = h.revoked.check(p) // revoked since the login
		}
	case audit.CredToken:
		tok, _ := bearer(r)
		p, err = h.tokens.verify(h.opts.Verifier, tok, h.opts.Now()) // and its revocation
	case audit.CredCertificate:
		// A client certificate TLS verified against --tls-client-ca.
		p, err = auth.FromCertificate(r.TLS.VerifiedChains[0][0])
		if err == nil {
			err = h.revoked.checkCert(p.Tenant, r.TLS.VerifiedChains[0][0]) // revokecert.go
		}
	default:
		return p, false, nil
	}
	return p, true, err
}
