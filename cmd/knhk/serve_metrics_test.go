// This file tests knhk serve's metrics, probes and structured logs as a
// process.

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/client"
)

// TestServeMetrics runs knhk serve with JSON logs and a token, runs a
// case through the API, and checks the probes (public), /metrics (behind
// the token, counting the case) and that every line of the log is one
// JSON record, from start-up to the drain.
func TestServeMetrics(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, dir, "data", "--token-file", "token", "--log-format", "json", "--log-level", "debug")
	if code, body := srv.get(t, "/healthz", ""); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, body := srv.get(t, "/readyz", ""); code != 200 || body != "ready\n" {
		t.Errorf("/readyz: %d %q", code, body)
	}
	if code, _ := srv.get(t, "/metrics", ""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without the token: %d, want 401", code)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := client.New(srv.url, client.WithToken("s3cret"))
	if _, err := c.Deploy(ctx, "hold.knhk", []byte(serveSource)); err != nil {
		t.Fatal(err)
	}
	r, err := c.Start(ctx, &knhkv1.StartCaseRequest{Workflow: "Inc", InputJson: "41"})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := c.Wait(ctx, r.CaseId); err != nil || s.ResultJson != "42" {
		t.Fatalf("Inc: %v %v", s, err)
	}
	code, body := srv.get(t, "/metrics", "s3cret")
	for _, want := range []string{
		`knhk_cases{status="completed",workflow="Inc"} 1`,
		`knhk_events_total{kind="start"} 1`,
		`knhk_store_fsync_seconds_count`,
		`go_goroutines`,
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics: %d, no %q in\n%s", code, want, body)
		}
	}

	if code := srv.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("serve after SIGTERM: exit %d\n%s", code, srv.log())
	}
	var msgs []string
	requests := 0
	for _, line := range strings.Split(strings.TrimSpace(srv.log()), "\n") {
		var rec struct {
			Time, Level, Msg, Path string
			Status                 int
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Time == "" || rec.Level == "" {
			t.Fatalf("not a JSON record: %q (%v)\n%s", line, err, srv.log())
		}
		if rec.Msg == "request" {
			requests++
			if rec.Path == "/metrics" && rec.Status != 200 && rec.Status != 401 {
				t.Errorf("request record %q", line)
			}
			continue
		}
		msgs = append(msgs, rec.Msg)
	}
	want := []string{"0 cases in data, 0 running (0 rebuilt, 0 parked; read 0 log records)", "listening on " + srv.url, "draining", "stopped"}
	if strings.Join(msgs, "\n") != strings.Join(want, "\n") {
		t.Errorf("log messages %q, want %q", msgs, want)
	}
	if requests < 7 {
		t.Errorf("%d request records at --log-level debug, want one per request (7 or more)", requests)
	}
}

// TestServeLogFlags: a bad --log-format or --log-level is a usage error
// that names the value and what is allowed.
func TestServeLogFlags(t *testing.T) {
	dir := t.TempDir()
	code, _, errs := knhkProc(t, dir, "serve", "--log-format", "xml")
	if code != 1 || !strings.Contains(errs, `unknown log format "xml" (want text or json)`) {
		t.Errorf("--log-format xml: %d %q", code, errs)
	}
	code, _, errs = knhkProc(t, dir, "serve", "--log-level", "loud")
	if code != 1 || !strings.Contains(errs, `unknown log level "loud" (want debug, info, warn or error)`) {
		t.Errorf("--log-level loud: %d %q", code, errs)
	}
}
