package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/server/tenant"
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
	os.Remove(filepath.Join(src, "tenants", "acme", "license.lic"))
	ts, _ = readTenancy(src)
	if _, err := applyTenancy(dst, ts); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dst, "tenants", "acme", "license.lic")); !os.IsNotExist(err) {
		t.Fatalf("a dropped licence stays: %v", err)
	}
}

// FuzzParseTenantAdmin decodes arbitrary administration calls: one it
// accepts names a valid tenant id, a known op, quotas that are not
// negative and a positive token lifetime.
func FuzzParseTenantAdmin(f *testing.F) {
	f.Add([]byte(`{"op":"create","id":"acme","req":"r1","quota":{"rate":5}}`))
	f.Add([]byte(`{"op":"token","id":"acme","role":"operator","ttl":"1h"}`))
	f.Add([]byte(`{"op":"set","id":"acme","given":["rate","in-flight"],"quota":{"rate":-1}}`))
	f.Add([]byte(`{"op":"delete","id":"../x"}`))
	f.Add([]byte(`{"op":"revoke","id":"acme","jti":"j1","subject":"s"}`))
	f.Add([]byte(`{"op":"create","id":"acme","encrypt":true,"unknown":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		q, _, ttl, err := parseTenantAdmin(b)
		if err != nil {
			return
		}
		if tenant.CheckID(q.ID) != nil || ttl <= 0 || q.Quota.Rate < 0 || q.Quota.Burst < 0 || q.Quota.MaxRunning < 0 || q.Quota.InFlight < 0 {
			t.Fatalf("accepted %+v (ttl %v)", q, ttl)
		}
		switch q.Op {
		case "create", "set", "suspend", "resume", "delete", "erase", "token":
		case "revoke":
			if n := len(q.JTI + q.Subject + q.Serial); n == 0 || n != len(q.JTI) && n != len(q.Subject) && n != len(q.Serial) {
				t.Fatalf("a revoke of not exactly one thing: %+v", q)
			}
		default:
			t.Fatalf("accepted op %q", q.Op)
		}
	})
}

// TestMaterialise writes a replicated tenancy into a data directory:
// the files a node keeps are written and marked a cluster's copy, a
// file no node keeps is left out, and the node's own private key stays.
func TestMaterialise(t *testing.T) {
	data := t.TempDir()
	os.MkdirAll(filepath.Join(data, "tenants"), 0o700)
	os.WriteFile(filepath.Join(data, "tenants", "issuer.key"), []byte("own"), 0o600)
	tn := cluster.Tenancy{Rev: 7, Files: map[string][]byte{
		"tenants.json": []byte(`{"version":1,"tenants":[]}`), "acme/license.lic": []byte("L"), "acme/data/x": []byte("no"),
	}}
	if changed, err := materialise(data, tn, slog.New(slog.DiscardHandler)); err != nil || !changed {
		t.Fatalf("materialise: %v %v", changed, err)
	}
	got, err := readTenancy(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Files) != 2 || string(got.Files["acme/license.lic"]) != "L" {
		t.Fatalf("written %v", got.Files)
	}
	if !tenant.Replicated(data) {
		t.Fatal("the copy is not marked replicated")
	}
	if b, _ := os.ReadFile(filepath.Join(data, "tenants", "issuer.key")); string(b) != "own" {
		t.Fatalf("the node's own key: %q", b)
	}
}
