package tenant

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/server/auth"
)

// auditFixture is a tenant fixture served through the audit front.
func auditFixture(t *testing.T) (*fixture, string, *audit.Log) {
	t.Helper()
	f := newFixture(t, nil)
	log, err := audit.Open(f.data)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(f.host.Audited(log))
	t.Cleanup(func() { ts.Close(); log.Close() })
	return f, ts.URL, log
}

func exportAs(t *testing.T, url, token, format string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url+AuditExportPath+"?format="+format, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAuditRecordsEveryCall(t *testing.T) {
	f, url, log := auditFixture(t)
	// Refusals' records wait for the export's flush below, not a timer.
	log.SetLaterDelay(time.Hour)
	ctx := context.Background()
	acmeAdmin := f.priv(auth.Principal{Subject: "alice", Tenant: "acme", Role: auth.RoleAdmin})
	acmeViewer := f.priv(auth.Principal{Subject: "victor", Tenant: "acme", Role: auth.RoleViewer})
	betaAdmin := f.priv(auth.Principal{Subject: "bob", Tenant: "beta", Role: auth.RoleAdmin})
	client := func(tok string) knhkv1connect.KnhkServiceClient {
		return knhkv1connect.NewKnhkServiceClient(http.DefaultClient, url, connect.WithInterceptors(bearerInterceptor(tok)))
	}
	a := client(acmeAdmin)
	if _, err := a.Deploy(ctx, connect.NewRequest(&knhkv1.DeployRequest{Name: "two.knhk", Source: testSrc})); err != nil {
		t.Fatal(err)
	}
	s, err := a.StartCase(ctx, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Inc", InputJson: "1"}))
	if err != nil {
		t.Fatal(err)
	}
	id := s.Msg.CaseId
	// The same call in the JSON codec, and another tenant's try at the case.
	jc := knhkv1connect.NewKnhkServiceClient(http.DefaultClient, url, connect.WithProtoJSON(), connect.WithInterceptors(bearerInterceptor(acmeAdmin)))
	if _, err := jc.GetCase(ctx, connect.NewRequest(&knhkv1.GetCaseRequest{CaseId: id})); err != nil {
		t.Fatal(err)
	}
	if _, err := client(betaAdmin).GetCase(ctx, connect.NewRequest(&knhkv1.GetCaseRequest{CaseId: id})); connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("beta reading acme's case: %v", err)
	}
	if _, err := client(acmeViewer).Deploy(ctx, connect.NewRequest(&knhkv1.DeployRequest{Name: "two.knhk", Source: testSrc})); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Fatalf("viewer deploying: %v", err)
	}
	if _, err := client("not-a-token").ListCases(ctx, connect.NewRequest(&knhkv1.ListCasesRequest{})); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Fatalf("bad token: %v", err)
	}
	// A refusal's record is queued before its answer leaves, to ride the
	// log's next group commit (auditrefused.go): the records keep the
	// order of the calls.
	// A non-admin's export is refused, and recorded.
	code, body := exportAs(t, url, acmeViewer, "json")
	if code != http.StatusForbidden || !strings.Contains(body, "role viewer may not export the audit log (needs admin)") {
		t.Fatalf("viewer export: %d %s", code, body)
	}
	if code, body := exportAs(t, url, "", "json"); code != http.StatusUnauthorized {
		t.Fatalf("anonymous export: %d %s", code, body)
	}

	// The export shows the refusals just answered: their records ride a
	// later group commit (auditrefused.go), and it flushes them first.
	code, body = exportAs(t, url, "static-token", "json")
	if ev, err := audit.DecodeEvidence([]byte(body)); code != http.StatusOK || err != nil || len(ev.Records) != 8 {
		t.Fatalf("the export after the refusals: %d, %v, %d records, want 8", code, err, len(ev.Records))
	}

	recs, err := audit.ReadAll(f.data)
	if err != nil {
		t.Fatal(err)
	}
	type want struct{ tenant, subject, role, cred, action, target, result string }
	wants := []want{
		{"acme", "alice", "admin", "token", "Deploy", "name=two.knhk", "ok"},
		{"acme", "alice", "admin", "token", "StartCase", "case_id=" + id, "ok"},
		{"acme", "alice", "admin", "token", "GetCase", "case_id=" + id, "ok"},
		{"beta", "bob", "admin", "token", "GetCase", "case_id=" + id, "not_found"},
		{"acme", "victor", "viewer", "token", "Deploy", "name=two.knhk", "permission_denied"},
		{"", "", "", "token", "ListCases", "", "unauthenticated"},
		{"acme", "victor", "viewer", "token", "GET /audit/export", "", "permission_denied"},
		{"", "", "", "none", "GET /audit/export", "", "unauthenticated"},
		{"default", "static", "admin", "static", "GET /audit/export", "", "ok"},
	}
	if len(recs) != len(wants) {
		for _, r := range recs {
			t.Logf("%+v", r)
		}
		t.Fatalf("%d records, want %d", len(recs), len(wants))
	}
	for i, w := range wants {
		r := recs[i]
		got := want{r.Tenant, r.Subject, r.Role, r.Credential, r.Action, strings.Join(r.Targets, " "), r.Result}
		if got.tenant != w.tenant || got.subject != w.subject || got.role != w.role || got.cred != w.cred ||
			!strings.HasSuffix(got.action, w.action) || !strings.Contains(got.target, w.target) || got.result != w.result {
			t.Errorf("record %d: got %+v, want %+v", i, got, w)
		}
		if !strings.HasPrefix(r.Remote, "127.0.0.1:") || r.Time == "" {
			t.Errorf("record %d: remote %q time %q", i, r.Remote, r.Time)
		}
		if strings.Contains(strings.Join(r.Targets, " "), "source") {
			t.Errorf("record %d holds a payload: %v", i, r.Targets)
		}
	}

	// An admin's export: its own tenant's records in clear, the others'
	// redacted; the default tenant's admin sees them all.
	code, body = exportAs(t, url, acmeAdmin, "json")
	if code != http.StatusOK {
		t.Fatalf("admin export: %d %s", code, body)
	}
	ev, err := audit.DecodeEvidence([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ev.Records {
		if e.Record != nil && e.Record.Tenant != "acme" {
			t.Fatalf("acme's export shows record %d of tenant %q", e.Seq, e.Record.Tenant)
		}
	}
	if rep := audit.Check(ev, audit.VerifyOptions{}); rep.Problem != nil || rep.Redacted == 0 {
		t.Fatalf("acme's export: %+v", rep)
	}
	code, body = exportAs(t, f.url[:0]+url, "static-token", "html")
	if code != http.StatusOK || !strings.Contains(body, "CC8.1") || !strings.Contains(body, "bob") {
		t.Fatalf("operator's html export: %d", code)
	}
	var m map[string]any
	code, body = exportAs(t, url, "static-token", "json")
	if json.Unmarshal([]byte(body), &m); code != http.StatusOK || m["scope"] != "all tenants" {
		t.Fatalf("operator's export: %d %v", code, m["scope"])
	}
}
