// This file implements "knhk tenant revoke": adding a token id or a
// subject to a tenant's revocation list, which a running knhk serve
// --tenants rereads within a second (server/tenant revoke.go).

package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/knhk/knhk/server/auth"
	"github.com/knhk/knhk/server/tenant"
)

// revokeFlags are knhk tenant revoke's own flags (--subject is the
// token's, shared with knhk tenant token).
type revokeFlags struct {
	jti string
}

func (rf *revokeFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&rf.jti, "jti", "", "revoke: the token `ID` (jti) to refuse, as knhk tenant create|token printed it")
}

func runTenantRevoke(e *env, data, id string, rf revokeFlags, subject string) int {
	if (rf.jti == "") == (subject == "") {
		return usageError(e, "revoke wants exactly one of --jti ID and --subject S")
	}
	if id != auth.DefaultTenant {
		reg, err := tenant.Load(data)
		if err != nil {
			return tenantFail(e, err)
		}
		if t := reg.Get(id); t == nil || t.State == tenant.Deleted {
			return tenantFail(e, fmt.Errorf("no tenant %s", id))
		}
	}
	r, err := tenant.LoadRevocations(data, id)
	if err != nil {
		return tenantFail(e, err)
	}
	now := time.Now()
	if rf.jti != "" {
		err = r.RevokeToken(rf.jti, now)
	} else {
		err = r.RevokeSubject(subject, now)
	}
	if err != nil {
		return usageError(e, "%v", err)
	}
	if err := r.Save(data, id); err != nil {
		return tenantFail(e, err)
	}
	if rf.jti != "" {
		fmt.Fprintf(e.stderr, "revoked token %s of tenant %s; a running server refuses it within a second\n", rf.jti, id)
	} else {
		fmt.Fprintf(e.stderr, "revoked the tokens of subject %s of tenant %s issued up to now; a running server refuses them within a second\n", subject, id)
	}
	return exitOK
}
