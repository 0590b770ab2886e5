package tenant

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
)

func TestParseSerial(t *testing.T) {
	for in, want := range map[string]string{"0A1B": "a1b", "serial=00FF": "ff", "0a:1b:2c": "a1b2c", "0x10": "10", " 7 ": "7"} {
		if got, err := ParseSerial(in); err != nil || got != want {
			t.Errorf("ParseSerial(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "xyz", "-1", "0x", "12g4"} {
		if _, err := ParseSerial(bad); err == nil || !strings.Contains(err.Error(), "not a hexadecimal number") {
			t.Errorf("ParseSerial(%q): %v", bad, err)
		}
	}
	// A list whose serial is not in its normal form is refused, naming it.
	if _, err := parseRevocations("r.json", []byte(`{"version":1,"certificates":[{"serial":"0A","revoked":"2026-12-02T10:00:00Z"}]}`)); err == nil || !strings.Contains(err.Error(), `serial "0A" is not in the list's form "a"`) {
		t.Errorf("unnormalised serial: %v", err)
	}
	if _, err := parseRevocations("r.json", []byte(`{"version":1,"certificates":[{"serial":"zz"}]}`)); err == nil || !strings.Contains(err.Error(), "certificate 0") {
		t.Errorf("bad serial: %v", err)
	}
}

// TestRevokeCertificate: a client certificate the server accepted is
// refused within a reload once its serial is in its tenant's list,
// with an error naming it; another certificate of the same subject and
// tenant is unaffected.
func TestRevokeCertificate(t *testing.T) {
	f := newFixture(t, nil)
	ca := newCA(t, "knhk clients")
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
	list := func(c knhkv1connect.KnhkServiceClient) error {
		_, err := c.ListCases(context.Background(), connect.NewRequest(&knhkv1.ListCasesRequest{}))
		return err
	}
	oldCert, newCert := ca.client(t, "ops-bot", "acme", "operator"), ca.client(t, "ops-bot", "acme", "operator")
	leaf, _ := x509.ParseCertificate(oldCert.Certificate[0])
	old, fresh := as(oldCert), as(newCert)
	for _, c := range []knhkv1connect.KnhkServiceClient{old, fresh} {
		if err := list(c); err != nil {
			t.Fatalf("before revoking: %v", err)
		}
	}
	r := &Revocations{Version: 1}
	if err := r.RevokeCertificate(strings.ToUpper(leaf.SerialNumber.Text(16)), time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := r.Save(f.data, "acme"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(RevocationsPath(f.data, "acme"))
	if !strings.Contains(string(b), `"serial": "`+leaf.SerialNumber.Text(16)+`"`) {
		t.Fatalf("revoked.json: %s", b)
	}
	var err error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if err = list(old); err != nil {
			break
		}
	}
	if connect.CodeOf(err) != connect.CodeUnauthenticated || !strings.Contains(err.Error(), `certificate revoked: client certificate "ops-bot" (serial `+leaf.SerialNumber.Text(16)+") of tenant acme was revoked at") {
		t.Fatalf("revoked certificate: %v", err)
	}
	if err := list(fresh); err != nil {
		t.Fatalf("another certificate of the subject: %v", err)
	}
	if err := f.host.revoked.checkCert("acme", leaf); !errors.Is(err, ErrCertRevoked) {
		t.Fatalf("the refusal wraps ErrCertRevoked: %v", err)
	}
}
