package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestMirrored(t *testing.T) {
	for rel, want := range map[string]bool{
		"tenants.json": true, "issuer.pub": true, "issuer-pq.pub": true,
		"acme/license.lic": true, "acme/revoked.json": true, "acme/sign.pub": true,
		"acme/license-trust/vendor.pub": true, "acme/trust/k.pub": true,
		"issuer.key": false, "issuer-pq.key": false, "acme/sign.key": false, "used-tokens": false,
		"acme/data/HEAD": false, "acme/trust/a/b.pub": false, "tenants.json.tmp": false,
		"../tenants.json": false, "/etc/passwd": false, "Bad/license.lic": false, "default/license.lic": false,
		"": false, ".": false, "acme/../tenants.json": false,
	} {
		if got := mirrored(rel); got != want {
			t.Errorf("mirrored(%q) = %v, want %v", rel, got, want)
		}
	}
}

// TestApplyTenancy copies a directory's tenancy into another: the
// copies' mirrored files are the source's, a file the source dropped
// goes, and what does not travel (a private key) stays as it was.
func TestApplyTenancy(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	write := func(root, rel, body string) {
		p := filepath.Join(root, "tenants", filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(src, "tenants.json", `{"version":1}`)
	write(src, "issuer.pub", "pub")
	write(src, "issuer.key", "secret")
	write(src, "acme/license.lic", "lic")
	write(src, "acme/data/HEAD", "data")
	write(dst, "issuer.key", "the copy's own")
	write(dst, "old/license.lic", "gone")
	ts, err := readTenancy(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ts.Files["issuer.key"]; ok || len(ts.Files) != 3 {
		t.Fatalf("read %v", ts.Files)
	}
	if changed, err := applyTenancy(dst, ts); err != nil || !changed {
		t.Fatalf("apply: %v %v", changed, err)
	}
	td, err := readTenancy(dst)
	if err != nil || !reflect.DeepEqual(td.Files, ts.Files) {
		t.Fatalf("the copy %v (%v), want %v", td.Files, err, ts.Files)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "tenants", "issuer.key")); string(b) != "the copy's own" {
		t.Fatalf("the copy's private key: %q", b)
	}
	if changed, err := applyTenancy(dst, ts); err != nil || changed {
		t.Fatalf("a second apply changed %v (%v)", changed, err)
	}
	if td.etag() != ts.etag() {
		t.Fatal("equal tenancies, different etags")
	}
	os.Remove(filepath.Join(src, "tenants", "acme", "license.lic"))
	ts, _ = readTenancy(src)
	if _, err := applyTenancy(dst, ts); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dst, "tenants", "acme", "license.lic")); !os.IsNotExist(err) {
		t.Fatalf("a dropped licence stays: %v", err)
	}
	if _, err := decodeTenancy([]byte(`{"files":{"../../etc/x":"AA=="}}`)); err == nil {
		t.Fatal("a path out of the tenancy accepted")
	}
}

// FuzzDecodeTenancy decodes arbitrary answers of a peer: every file it
// accepts is one a node mirrors, inside DIR/tenants.
func FuzzDecodeTenancy(f *testing.F) {
	f.Add([]byte(`{"files":{"tenants.json":"e30=","acme/license.lic":"AA=="}}`))
	f.Add([]byte(`{"files":{"issuer.key":"AA=="}}`))
	f.Add([]byte(`{"files":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, err := decodeTenancy(b)
		if err != nil {
			return
		}
		for n := range ts.Files {
			if !mirrored(n) || !filepath.IsLocal(filepath.FromSlash(n)) {
				t.Fatalf("accepted %q", n)
			}
		}
	})
}
