package main

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTenantRevokeCertSerial: knhk tenant revoke --cert-serial HEX ID,
// with the serial as a browser prints it (upper case, colons), refuses
// the client certificate the running server accepted before, naming it;
// another certificate of the tenant still works; bad serials and two
// kinds at once are usage errors.
func TestTenantRevokeCertSerial(t *testing.T) {
	dir := t.TempDir()
	ca, caKey := writeCert(t, dir, "ca", &x509.Certificate{Subject: pkix.Name{CommonName: "ca"}, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, nil, nil)
	writeCert(t, dir, "server", &x509.Certificate{Subject: pkix.Name{CommonName: "localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, ca, caKey)
	client := func(name string) (tls.Certificate, *x509.Certificate) {
		leaf, _ := writeCert(t, dir, name, &x509.Certificate{Subject: pkix.Name{CommonName: name, Organization: []string{"acme"}, OrganizationalUnit: []string{"viewer"}},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, ca, caKey)
		cert, err := tls.LoadX509KeyPair(filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key"))
		if err != nil {
			t.Fatal(err)
		}
		return cert, leaf
	}
	bot, botLeaf := client("bot")
	other, _ := client("other")
	if code, _, errs := knhkEnv(t, dir, nil, "tenant", "create", "--data", "data", "acme"); code != 0 {
		t.Fatal(errs)
	}
	srv := startServe(t, dir, "data", "--tenants", "--tls-cert", "server.pem", "--tls-key", "server.key", "--tls-client-ca", "ca.pem")
	defer srv.stop(t, syscall.SIGTERM)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	list := func(cert tls.Certificate) (int, string) {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}}}
		r, err := c.Post(srv.url+"/knhk.v1.KnhkService/ListCases", "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	for _, c := range []tls.Certificate{bot, other} {
		if code, body := list(c); code != 200 {
			t.Fatalf("before revoking: %d %s", code, body)
		}
	}
	// Bad uses change nothing.
	for _, args := range [][]string{{"--cert-serial", "xyz"}, {"--cert-serial", "0a", "--jti", "j"}, {"--cert-serial", "0a", "--subject", "s"}} {
		code, _, errs := knhkEnv(t, dir, nil, append(append([]string{"tenant", "revoke", "--data", "data"}, args...), "acme")...)
		if code == 0 || !(strings.Contains(errs, "not a hexadecimal number") || strings.Contains(errs, "exactly one of")) {
			t.Fatalf("revoke %v: %d %q", args, code, errs)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "tenants", "acme", "revoked.json")); err == nil {
		t.Fatal("a refused revoke wrote the list")
	}
	hex := fmt.Sprintf("%X", botLeaf.SerialNumber)
	var colons []string
	if len(hex)%2 == 1 {
		hex = "0" + hex
	}
	for i := 0; i < len(hex); i += 2 {
		colons = append(colons, hex[i:i+2])
	}
	serial := botLeaf.SerialNumber.Text(16)
	code, _, errs := knhkEnv(t, dir, nil, "tenant", "revoke", "--data", "data", "--cert-serial", strings.Join(colons, ":"), "acme")
	if code != 0 || !strings.Contains(errs, "revoked client certificate serial "+serial+" of tenant acme") {
		t.Fatalf("revoke --cert-serial: %d %q", code, errs)
	}
	var body string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if code, body = list(bot); code != 200 {
			break
		}
	}
	if code != 401 || !strings.Contains(body, `certificate revoked: client certificate \"bot\" (serial `+serial+`) of tenant acme was revoked at`) {
		t.Fatalf("revoked certificate: %d %s\n%s", code, body, srv.log())
	}
	if code, body := list(other); code != 200 {
		t.Fatalf("another certificate: %d %s", code, body)
	}
}
