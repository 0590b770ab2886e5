// This file implements the choice among several issuers' keys.

package auth

import (
	"crypto/subtle"
	"fmt"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// Issuers verifies tokens of several issuers (knhk tenant's own and an
// OIDC provider's, say), each against its own keys: the token's iss
// claim (of a JWT or a knhk token), read before verification, only picks
// the [Verifier], which then checks everything, signature and iss
// included. A token of an issuer
// not listed is refused.
type Issuers struct {
	ByIssuer map[string]*Verifier
	// Static, when not empty, is the --token-file token: an admin of
	// DefaultTenant.
	Static string
}

// Verify returns the principal token speaks for.
func (is *Issuers) Verify(token string) (Principal, error) {
	if is.Static != "" && subtle.ConstantTimeCompare([]byte(token), []byte(is.Static)) == 1 {
		return Principal{Subject: "static", Tenant: DefaultTenant, Role: RoleAdmin}, nil
	}
	var iss string
	if strings.HasPrefix(token, TokenPrefix) {
		var err error
		if iss, err = signedIssuer(token); err != nil {
			return Principal{}, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
		}
	} else {
		var c Claims
		if _, _, err := jwt.NewParser().ParseUnverified(token, &c); err != nil {
			return Principal{}, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
		}
		iss = c.Issuer
	}
	v := is.ByIssuer[iss]
	if v == nil {
		return Principal{}, fmt.Errorf("%w: tokens of issuer %q are not accepted", ErrUnauthenticated, iss)
	}
	return v.Verify(token)
}
