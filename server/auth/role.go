// This file implements roles and the principal a verified token names.

package auth

import (
	"context"
	"fmt"
	"time"
)

// Role is what a principal may do within its tenant; a higher role may do
// everything a lower one may.
type Role int

// The roles, least first. RoleNone is no role at all and allows nothing.
const (
	RoleNone Role = iota
	RoleViewer
	RoleOperator
	RoleDeployer
	RoleAdmin
)

var roleNames = [...]string{"none", "viewer", "operator", "deployer", "admin"}

func (r Role) String() string {
	if r < 0 || int(r) >= len(roleNames) {
		return fmt.Sprintf("Role(%d)", int(r))
	}
	return roleNames[r]
}

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	for i, n := range roleNames[1:] {
		if s == n {
			return Role(i + 1), nil
		}
	}
	return RoleNone, fmt.Errorf("unknown role %q (want viewer, operator, deployer or admin)", s)
}

// Principal is who a verified credential speaks for.
type Principal struct {
	Subject string // the token's sub claim ("static" for --token-file)
	Tenant  string // the tenant the principal belongs to
	Role    Role
	// ID is the token's id (its jti claim), empty when it has none.
	ID string
	// Once marks a one-time token: the server accepts its ID once
	// (replay.go).
	Once bool
	// Expires is when the credential expires; zero when it does not
	// (the static token, a client certificate checked by TLS).
	Expires time.Time
	// Issued is when the token was issued (its iat claim); zero when it
	// has none. A revocation of a subject refuses the tokens issued up
	// to it (server/tenant revoke.go).
	Issued time.Time
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal ctx carries.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
