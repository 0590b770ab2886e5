// This file implements "knhk tenant revoke": adding a token id, a
// subject or a client certificate's serial to a tenant's revocation list, which a running knhk serve
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
	jti, serial string
}

func (rf *revokeFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&rf.jti, "jti", "", "revoke: the token `ID` (jti) to refuse, as knhk tenant create|token printed it")
	fs.StringVar(&rf.serial, "cert-serial", "", "revoke: the client certificate's serial number in `HEX` (openssl x509 -serial), refused on mTLS calls")
}

func runTenantRevoke(e *env, data, id string, rf revokeFlags, subject string) int {
	given := 0
	for _, v := range []string{rf.jti, subject, rf.serial} {
		if v != "" {
			given++
		}
	}
	if given != 1 {
		return usageError(e, "revoke wants exactly one of --jti ID, --subject S and --cert-serial HEX")
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
	var done string
	switch {
	case rf.jti != "":
		err = r.RevokeToken(rf.jti, now)
		done = fmt.Sprintf("revoked token %s of tenant %s; a running server refuses it within a second", rf.jti, id)
	case rf.serial != "":
		err = r.RevokeCertificate(rf.serial, now) // server/tenant revokecert.go
		serial, _ := tenant.ParseSerial(rf.serial)
		done = fmt.Sprintf("revoked client certificate serial %s of tenant %s; a running server refuses it within a second", serial, id)
	default:
		err = r.RevokeSubject(subject, now)
		done = fmt.Sprintf("revoked the tokens of subject %s of tenant %s issued up to now; a running server refuses them within a second", subject, id)
	}
	if err != nil {
		return usageError(e, "%v", err)
	}
	if err := r.Save(data, id); err != nil {
		return tenantFail(e, err)
	}
	fmt.Fprintln(e.stderr, done)
	return exitOK
}
