package console

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/knhk/knhk/server/auth"
)

// TestWhoami checks the login page's check of a token: the principal
// the server verified, or the default tenant on a server without tenants.
func TestWhoami(t *testing.T) {
	f := newFixture(t, "")
	resp, err := http.Get(f.srv.URL + "/console/api/whoami")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v whoamiView
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.Tenant != auth.DefaultTenant || v.Tenants {
		t.Fatalf("without tenants: %+v %v", v, err)
	}
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	r := httptest.NewRequest("GET", "/console/api/whoami", nil)
	r = r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{Subject: "alice", Tenant: "acme", Role: auth.RoleOperator, Expires: exp}))
	w := httptest.NewRecorder()
	whoami(w, r)
	v = whoamiView{}
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil || v != (whoamiView{Tenant: "acme", Subject: "alice", Role: "operator", Expires: "2030-01-02T03:04:05Z", Tenants: true}) {
		t.Fatalf("with a principal: %s %v", w.Body, err)
	}
}
