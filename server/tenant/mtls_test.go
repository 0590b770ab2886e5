package tenant

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/server/auth"
)

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newCA(t *testing.T, name string) testCA {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return testCA{c, key}
}

// client issues a client certificate of subject (CN cn, O tenant, OU role).
func (ca testCA) client(t *testing.T, cn, tenant, role string) tls.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		Subject:     pkix.Name{CommonName: cn, Organization: []string{tenant}, OrganizationalUnit: []string{role}},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestClientCertificates: a client certificate verified against the
// client CA speaks for the tenant (O) and role (OU) it names, with the
// same isolation and role checks as a token; one of another CA fails the
// handshake, one without a role is refused.
func TestClientCertificates(t *testing.T) {
	f := newFixture(t, nil)
	a := seed(t, f.client(f.priv(auth.Principal{Subject: "a", Tenant: "acme", Role: auth.RoleAdmin})))
	ca, other := newCA(t, "knhk clients"), newCA(t, "evil")
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	ts := httptest.NewUnstartedServer(f.host)
	ts.TLS = &tls.Config{ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven}
	ts.StartTLS()
	defer ts.Close()
	as := func(cert tls.Certificate) knhkv1connect.KnhkServiceClient {
		tr := ts.Client().Transport.(*http.Transport).Clone()
		tr.TLSClientConfig.Certificates = []tls.Certificate{cert}
		return knhkv1connect.NewKnhkServiceClient(&http.Client{Transport: tr}, ts.URL)
	}
	ctx := context.Background()
	op := as(ca.client(t, "ops-bot", "acme", "operator"))
	if g, err := op.GetCase(ctx, connect.NewRequest(&knhkv1.GetCaseRequest{CaseId: a.hold})); err != nil || g.Msg.Case.CaseId != a.hold {
		t.Fatalf("acme operator reads its case: %v", err)
	}
	if _, err := op.Deploy(ctx, connect.NewRequest(&knhkv1.DeployRequest{Name: "o.knhk", Source: otherSrc})); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Fatalf("operator deploys: %v", err)
	}
	beta := as(ca.client(t, "b", "beta", "admin"))
	if _, err := beta.GetCase(ctx, connect.NewRequest(&knhkv1.GetCaseRequest{CaseId: a.hold})); connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("beta reads acme's case: %v", err)
	}
	if _, err := as(ca.client(t, "x", "acme", "root")).ListCases(ctx, connect.NewRequest(&knhkv1.ListCasesRequest{})); connect.CodeOf(err) != connect.CodeUnauthenticated || !strings.Contains(err.Error(), `unknown role "root"`) {
		t.Fatalf("bad role: %v", err)
	}
	if _, err := as(other.client(t, "m", "acme", "admin")).ListCases(ctx, connect.NewRequest(&knhkv1.ListCasesRequest{})); err == nil {
		t.Fatal("a certificate of another CA was accepted")
	}
	// No certificate and no token: public routes only.
	if _, err := knhkv1connect.NewKnhkServiceClient(ts.Client(), ts.URL).ListCases(ctx, connect.NewRequest(&knhkv1.ListCasesRequest{})); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Fatalf("anonymous: %v", err)
	}
}
