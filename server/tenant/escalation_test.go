package tenant

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/golang-jwt/jwt/v5"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/server/auth"
)

// TestRoleEscalation calls every API method in auth.MethodRoles with
// every role below the method's least role, holding that role by each
// kind of credential (a JWT, a composite-signed knhk token, a client
// certificate) and speaking each protocol (Connect, gRPC, gRPC-Web):
// each call is refused with permission_denied naming the role, and none
// changes the tenant's cases. A route without an entry needs an admin;
// a role claim that is not one of the four, however spelt, is refused.
func TestRoleEscalation(t *testing.T) {
	ck, err := sign.Generate(auth.TokenAlg)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureWith(t, nil, func(o *Options) {
		v := o.Verifier.(*auth.Verifier)
		v.Signers = sign.NewTrustSet(ck.Public())
	})
	admin := f.client(f.priv(auth.Principal{Subject: "a", Tenant: "acme", Role: auth.RoleAdmin}))
	a := seed(t, admin)
	cs := calls(a)

	ca := newCA(t, "knhk clients")
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	ts := httptest.NewUnstartedServer(f.host)
	ts.EnableHTTP2 = true // gRPC
	ts.TLS = &tls.Config{ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven}
	ts.StartTLS()
	defer ts.Close()

	type kind struct {
		name string
		as   func(r auth.Role) (tok string, cert *tls.Certificate)
	}
	kinds := []kind{
		{"jwt", func(r auth.Role) (string, *tls.Certificate) {
			return f.priv(auth.Principal{Subject: "u", Tenant: "acme", Role: r}), nil
		}},
		{"knhk token", func(r auth.Role) (string, *tls.Certificate) {
			tok, err := auth.IssueSigned(ck, Issuer, "", auth.Principal{Subject: "u", Tenant: "acme", Role: r}, time.Hour, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			return tok, nil
		}},
		{"client certificate", func(r auth.Role) (string, *tls.Certificate) {
			c := ca.client(t, "u", "acme", r.String())
			return "", &c
		}},
	}
	protocols := map[string][]connect.ClientOption{"connect": nil, "grpc": {connect.WithGRPC()}, "grpc-web": {connect.WithGRPCWeb()}}
	client := func(tok string, cert *tls.Certificate, opts []connect.ClientOption) knhkv1connect.KnhkServiceClient {
		tr := ts.Client().Transport.(*http.Transport).Clone()
		if cert != nil {
			tr.TLSClientConfig.Certificates = []tls.Certificate{*cert}
		}
		opts = append(opts, connect.WithInterceptors(bearerInterceptor(tok)))
		return knhkv1connect.NewKnhkServiceClient(&http.Client{Transport: tr}, ts.URL, opts...)
	}
	tried := 0
	for _, k := range kinds {
		for _, r := range []auth.Role{auth.RoleViewer, auth.RoleOperator, auth.RoleDeployer} {
			tok, cert := k.as(r)
			for pname, popts := range protocols {
				c := client(tok, cert, popts)
				for m, need := range auth.MethodRoles {
					if r >= need {
						continue
					}
					tried++
					_, err := cs[m](context.Background(), c)
					if connect.CodeOf(err) != connect.CodePermissionDenied || !strings.Contains(err.Error(), "role "+r.String()+" may not call "+auth.ServicePath+m+" (needs "+need.String()+")") {
						t.Errorf("%s as %s by %s over %s: %v, want permission_denied", m, r, k.name, pname, err)
					}
				}
			}
		}
	}
	if tried == 0 {
		t.Fatal("no call below its least role")
	}
	// Nothing the refused calls asked for happened: the held case
	// waits, the leased task is still acme's to complete, no program
	// was deployed beside acme's.
	ctx := context.Background()
	g, err := admin.GetCase(ctx, connect.NewRequest(&knhkv1.GetCaseRequest{CaseId: a.hold}))
	if err != nil || g.Msg.Case.Status != "running" {
		t.Fatalf("held case after the refused calls: %v %v", g, err)
	}
	if p, err := admin.ListPrograms(ctx, connect.NewRequest(&knhkv1.ListProgramsRequest{})); err != nil || len(p.Msg.Programs) != 1 {
		t.Fatalf("programs after the refused calls: %v %v", p, err)
	}
	if _, err := admin.CompleteTask(ctx, connect.NewRequest(&knhkv1.CompleteTaskRequest{Id: a.taskID, Token: a.taskToken, ResultJson: "7"})); err != nil {
		t.Fatalf("the task after the refused calls: %v", err)
	}

	// A route without an entry needs an admin: an unknown API method is
	// refused below it; a console write or a metrics delete has no
	// handler at all (404), never a 2xx.
	for _, route := range []struct{ method, path string }{{"POST", auth.ServicePath + "Escalate"}, {"POST", "/console/api/cases"}, {"DELETE", "/metrics"}} {
		for _, r := range []auth.Role{auth.RoleViewer, auth.RoleOperator, auth.RoleDeployer} {
			req, _ := http.NewRequest(route.method, f.url+route.path, strings.NewReader("{}"))
			req.Header.Set("Authorization", "Bearer "+f.priv(auth.Principal{Subject: "u", Tenant: "acme", Role: r}))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			want := resp.StatusCode == http.StatusForbidden
			if !strings.HasPrefix(route.path, auth.ServicePath) {
				want = want || resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed
			}
			if !want {
				t.Errorf("%s %s as %s: %d, want 403", route.method, route.path, r, resp.StatusCode)
			}
		}
	}

	// Role claims outside the four, signed by the issuer's own key.
	priv, err := IssuerKey(f.data)
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := auth.KeyID(priv.Public())
	for _, role := range []string{"Admin", "ADMIN", "root", "admin ", "", "superadmin", "5"} {
		c := auth.Claims{RegisteredClaims: jwt.RegisteredClaims{Issuer: Issuer, Subject: "m", ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}, Tenant: "acme", Role: role}
		tk := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
		tk.Header["kid"] = kid
		tok, err := tk.SignedString(priv)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.client(tok).Deploy(ctx, connect.NewRequest(&knhkv1.DeployRequest{Name: "o.knhk", Source: otherSrc}))
		if connect.CodeOf(err) != connect.CodeUnauthenticated || !strings.Contains(err.Error(), "unknown role") {
			t.Errorf("role claim %q: %v", role, err)
		}
	}
}
