package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/knhk/knhk/runtime/cluster"
)

// TestStatusProber: the prober reads the applied index at its path, with
// the cluster's token, and names what it read in a refusal.
func TestStatusProber(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path != cluster.StatusPath || r.URL.Query().Get("local") != "1" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		json.NewEncoder(w).Encode(cluster.Status{Applied: 42})
	}))
	defer srv.Close()
	m := cluster.Member{ID: "n1", API: srv.URL + "/"}
	got, err := ClusterSecurity{Token: "tok"}.Prober().Applied(context.Background(), m)
	if err != nil || got != 42 {
		t.Fatalf("Applied = %d, %v; want 42", got, err)
	}
	_, err = ClusterSecurity{Token: "tok"}.StatusProber("/other", "tenant acme").Applied(context.Background(), m)
	if err == nil || err.Error() != "member n1, tenant acme: status 404 Not Found" {
		t.Fatalf("err = %v", err)
	}
	if _, err := (ClusterSecurity{}).Prober().Applied(context.Background(), m); err == nil || err.Error() != "member n1: status 401 Unauthorized" {
		t.Fatalf("no token: err = %v", err)
	}
	if _, err := (ClusterSecurity{}).Prober().Applied(context.Background(), cluster.Member{ID: "n2"}); err == nil {
		t.Fatal("a member without an API address probed")
	}
}
