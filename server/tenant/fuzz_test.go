package tenant

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// FuzzLoad: no registry file panics Load; one it accepts has only valid
// ids and states and survives Save and Load unchanged.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(`{"version":1,"tenants":[{"id":"acme","state":"active","created":"2026-12-02T08:00:00Z","quota":{"rate":5,"burst":2,"max_running":3}}]}`))
	f.Add([]byte(`{"version":1,"tenants":[{"id":"../x","state":"active"}]}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":1,"tenants":[null]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		data := t.TempDir()
		os.MkdirAll(Dir(data), 0o700)
		if err := os.WriteFile(filepath.Join(Dir(data), "tenants.json"), b, 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := Load(data)
		if err != nil {
			return
		}
		for _, tn := range r.Tenants {
			if CheckID(tn.ID) != nil {
				t.Fatalf("accepted id %q", tn.ID)
			}
		}
		if err := r.Save(data); err != nil {
			t.Fatal(err)
		}
		r2, err := Load(data)
		if err != nil {
			t.Fatalf("reload: %v", err)
		}
		if len(r.Tenants) != len(r2.Tenants) || len(r.Tenants) > 0 && !reflect.DeepEqual(r, r2) {
			t.Fatalf("round trip: %+v != %+v", r, r2)
		}
	})
}

// FuzzUsedTokens: no used-tokens file panics the replay guard's load;
// one it accepts keeps only tokens that have not expired, and rewrites
// the file so that a second load reads the same.
func FuzzUsedTokens(f *testing.F) {
	f.Add([]byte("abc 99999999999\nold 1\n"))
	f.Add([]byte("no-expiry\n"))
	f.Add([]byte(" 5\n"))
	now := time.Unix(1764669600, 0)
	f.Fuzz(func(t *testing.T, b []byte) {
		data := t.TempDir()
		os.MkdirAll(Dir(data), 0o700)
		os.WriteFile(filepath.Join(Dir(data), "used-tokens"), b, 0o600)
		g, err := newReplayGuard(data, 0, false, now)
		if err != nil {
			return
		}
		for id, exp := range g.used {
			if id == "" || !exp.After(now) {
				t.Fatalf("kept %q expiring %v", id, exp)
			}
		}
		g2, err := newReplayGuard(data, 0, false, now)
		if err != nil || !reflect.DeepEqual(g.used, g2.used) {
			t.Fatalf("reload: %v %v vs %v", err, g.used, g2.used)
		}
	})
}
