// This file implements the test that knhk serve mounts the web console.

package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestServeConsole checks that knhk serve answers the console's page at
// / and its endpoints under /console/api/ beside the API, and that with
// --token-file the endpoints need the token while the page does not.
func TestServeConsole(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, dir, "data", "--token-file", "token")
	defer srv.stop(t, syscall.SIGTERM)
	get := func(path, token string) (int, string) {
		req, _ := http.NewRequest("GET", srv.url+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	if code, body := get("/", ""); code != http.StatusOK || !strings.Contains(body, "<title>knhk console</title>") {
		t.Errorf("GET /: %d %.200s", code, body)
	}
	if code, _ := get("/console/api/case?id=c-0000000000000000", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /console/api/case without the token: %d, want 401", code)
	}
	if code, body := get("/console/api/case?id=c-0000000000000000", "s3cret"); code != http.StatusNotFound || !strings.Contains(body, "c-0000000000000000") {
		t.Errorf("GET /console/api/case of an unknown case: %d %s", code, body)
	}
}
