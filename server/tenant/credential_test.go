package tenant

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/server/auth"
)

// sessionClient signs in to the console at url with token and returns
// a client that carries the session cookie (and no Authorization).
func sessionClient(t *testing.T, url, token string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	body, _ := json.Marshal(loginRequest{Token: token})
	resp, err := c.Post(url+LoginPath, "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	return c
}

func call(t *testing.T, c *http.Client, method, url string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestSessionEveryRoute: the console's session cookie authenticates the
// audit export and the erasure as it does the console's data, with the
// session's role (a viewer is refused, an admin admitted), and the audit
// records such calls with credential "session", the session's subject
// and the jti of the token it was opened with.
func TestSessionEveryRoute(t *testing.T) {
	f, url, log := auditFixture(t)
	viewer := sessionClient(t, url, f.priv(auth.Principal{Subject: "victor", Tenant: "acme", Role: auth.RoleViewer, ID: "jti-v"}))
	admin := sessionClient(t, url, f.priv(auth.Principal{Subject: "alice", Tenant: "acme", Role: auth.RoleAdmin, ID: "jti-a"}))

	if code, body := call(t, viewer, "GET", url+AuditExportPath); code != http.StatusForbidden || !strings.Contains(body, "role viewer may not export the audit log (needs admin)") {
		t.Fatalf("viewer session export: %d %s", code, body)
	}
	if code, body := call(t, viewer, "POST", url+ErasePath+"?case=nope"); code != http.StatusForbidden || !strings.Contains(body, "role viewer may not erase data (needs admin)") {
		t.Fatalf("viewer session erase: %d %s", code, body)
	}
	code, body := call(t, admin, "GET", url+AuditExportPath+"?format=json")
	if code != http.StatusOK {
		t.Fatalf("admin session export: %d %s", code, body)
	}
	if _, err := audit.DecodeEvidence([]byte(body)); err != nil {
		t.Fatalf("admin session export is no evidence: %v", err)
	}
	// Admitted: the erasure reaches the tenant's Service, which knows no
	// such case.
	if code, body := call(t, admin, "POST", url+ErasePath+"?case=nope"); code != http.StatusNotFound {
		t.Fatalf("admin session erase of an unknown case: %d %s", code, body)
	}
	// A session that was signed out is refused on both routes.
	if code, _ := call(t, admin, "POST", url+LogoutPath); code != http.StatusNoContent {
		t.Fatalf("logout: %d", code)
	}
	jar := admin.Jar
	admin.Jar = nil
	req, _ := http.NewRequest("GET", url+AuditExportPath, nil)
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: "forgotten"})
	resp, err := admin.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unknown session export: %d", resp.StatusCode)
	}
	admin.Jar = jar

	// The refusals' records ride a later group commit (auditrefused.go).
	if err := log.Flush(); err != nil {
		t.Fatal(err)
	}
	recs, err := audit.ReadAll(f.data)
	if err != nil {
		t.Fatal(err)
	}
	type want struct{ subject, role, cred, action, targets, result string }
	wants := []want{
		{"victor", "viewer", "token", "POST " + LoginPath, "login", "ok"},
		{"alice", "admin", "token", "POST " + LoginPath, "login", "ok"},
		{"victor", "viewer", "session", "GET " + AuditExportPath, "jti=jti-v", "permission_denied"},
		{"victor", "viewer", "session", "POST " + ErasePath, "case_id=nope jti=jti-v", "permission_denied"},
		{"alice", "admin", "session", "GET " + AuditExportPath, "jti=jti-a", "ok"},
		{"alice", "admin", "session", "POST " + ErasePath, "case_id=nope jti=jti-a", "not_found"},
		{"alice", "admin", "session", "POST " + LogoutPath, "logout jti=jti-a", "ok"},
		{"", "", "session", "GET " + AuditExportPath, "", "unauthenticated"},
	}
	if len(recs) != len(wants) {
		for _, r := range recs {
			t.Logf("%+v", r)
		}
		t.Fatalf("%d records, want %d", len(recs), len(wants))
	}
	for i, w := range wants {
		r := recs[i]
		got := want{r.Subject, r.Role, r.Credential, r.Action, strings.Join(r.Targets, " "), r.Result}
		if got != w {
			t.Errorf("record %d: %+v, want %+v", i, got, w)
		}
	}
}
