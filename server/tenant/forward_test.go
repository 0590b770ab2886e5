package tenant

import (
	"testing"

	"github.com/knhk/knhk/server/auth"
)

// FuzzDecodeForwarded decodes arbitrary principal headers: one it
// accepts names a tenant and one of the four roles, and encodes back to
// a header that decodes to the same principal.
func FuzzDecodeForwarded(f *testing.F) {
	f.Add(encodeForwarded(auth.Principal{Tenant: "acme", Subject: "a", Role: auth.RoleAdmin, ID: "j"}))
	f.Add(encodeForwarded(auth.Principal{Tenant: "default", Role: auth.RoleAdmin}))
	f.Add("not base64!")
	f.Add("e30")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := decodeForwarded(s)
		if err != nil {
			return
		}
		if CheckID(p.Tenant) != nil || p.Role < auth.RoleViewer || p.Role > auth.RoleAdmin {
			t.Fatalf("accepted %+v", p)
		}
		q, err := decodeForwarded(encodeForwarded(p))
		if err != nil || q != p {
			t.Fatalf("round trip %+v -> %+v (%v)", p, q, err)
		}
	})
}
