package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeCert writes a certificate (and its key) signed by parent (itself
// when nil) to dir/name.pem and dir/name.key.
func writeCert(t *testing.T, dir, name string, tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	os.WriteFile(filepath.Join(dir, name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	c, _ := x509.ParseCertificate(der)
	return c, key
}

// TestServeClientCertificates: knhk serve --tenants --tls-cert --tls-key
// --tls-client-ca takes a client certificate (O tenant, OU role) as a
// credential, in place of a token.
func TestServeClientCertificates(t *testing.T) {
	dir := t.TempDir()
	ca, caKey := writeCert(t, dir, "ca", &x509.Certificate{Subject: pkix.Name{CommonName: "ca"}, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, nil, nil)
	writeCert(t, dir, "server", &x509.Certificate{Subject: pkix.Name{CommonName: "localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, ca, caKey)
	writeCert(t, dir, "client", &x509.Certificate{Subject: pkix.Name{CommonName: "bot", Organization: []string{"acme"}, OrganizationalUnit: []string{"viewer"}},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, ca, caKey)
	if code, _, errs := knhkEnv(t, dir, nil, "tenant", "create", "--data", "data", "acme"); code != 0 {
		t.Fatal(errs)
	}
	srv := startServe(t, dir, "data", "--tenants", "--tls-cert", "server.pem", "--tls-key", "server.key", "--tls-client-ca", "ca.pem")
	defer srv.stop(t, syscall.SIGTERM)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key"))
	if err != nil {
		t.Fatal(err)
	}
	post := func(certs []tls.Certificate, method string) (int, string) {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: certs}}}
		r, err := c.Post(srv.url+"/knhk.v1.KnhkService/"+method, "application/json", strings.NewReader(`{"workflow":"Inc","inputJson":"1"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	if code, body := post([]tls.Certificate{cert}, "ListCases"); code != 200 {
		t.Fatalf("acme viewer lists: %d %s", code, body)
	}
	if code, body := post([]tls.Certificate{cert}, "StartCase"); code != 403 || !strings.Contains(body, "role viewer may not call") {
		t.Fatalf("acme viewer starts: %d %s", code, body)
	}
	if code, body := post(nil, "ListCases"); code != 401 {
		t.Fatalf("no certificate: %d %s", code, body)
	}
}
