package tenant

import (
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/knhk/knhk/server/auth"
)

// TestOneTimeKeys reads the keys a cluster node carries into its log
// as the guard keys them: per tenant for a nonce, per token id for a
// one-time token, none for an unauthenticated call or a bad header.
func TestOneTimeKeys(t *testing.T) {
	at := time.UnixMilli(1_700_000_000_000)
	r := httptest.NewRequest("POST", "/knhk.v1.KnhkService/StartCase", nil)
	auth.SetNonce(r.Header, at)
	nonce := r.Header.Get(auth.NonceHeader)
	if keys, _, _, _ := OneTimeKeys(r); keys != nil {
		t.Fatalf("keys without a principal: %q", keys)
	}
	r = r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{Tenant: "acme", Role: auth.RoleOperator}))
	keys, _, gotAt, until := OneTimeKeys(r)
	if !slices.Equal(keys, []string{"acme\x00" + nonce}) || !gotAt.Equal(at) || !until.Equal(at.Add(DefaultReplayWindow)) {
		t.Fatalf("nonce: %q %v %v", keys, gotAt, until)
	}
	exp := at.Add(time.Hour)
	r = r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{Tenant: "acme", ID: "jti-1", Once: true, Expires: exp}))
	keys, _, _, until = OneTimeKeys(r)
	if !slices.Equal(keys, []string{"acme\x00" + nonce, "one-time token\x00jti-1"}) || !until.Equal(exp) {
		t.Fatalf("nonce and one-time token: %q %v", keys, until)
	}
	r.Header.Set(auth.NonceHeader, "short")
	if keys, _, _, _ := OneTimeKeys(r); !slices.Equal(keys, []string{"one-time token\x00jti-1"}) {
		t.Fatalf("a bad nonce header: %q", keys)
	}
}
