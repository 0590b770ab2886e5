// This file implements the test that knhk serve mounts the web console.

package main

import (
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
	if code, body := srv.get(t, "/", ""); code != http.StatusOK || !strings.Contains(body, "<title>knhk console</title>") {
		t.Errorf("GET /: %d %.200s", code, body)
	}
	if code, _ := srv.get(t, "/console/api/case?id=c-0000000000000000", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /console/api/case without the token: %d, want 401", code)
	}
	if code, body := srv.get(t, "/console/api/case?id=c-0000000000000000", "s3cret"); code != http.StatusNotFound || !strings.Contains(body, "c-0000000000000000") {
		t.Errorf("GET /console/api/case of an unknown case: %d %s", code, body)
	}
}
