package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/metrics"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestProbes walks knhk serve's start-up and drain: the listener answers
// before the data directory is open (alive, not ready, the API refused),
// recovery of a live case finishes, the API and /metrics are mounted,
// /readyz turns ready, and a drain turns it back.
func TestProbes(t *testing.T) {
	dir := t.TempDir()
	// An earlier server left a case waiting for a signal.
	svc, err := server.Open(dir, server.Options{IndexEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := svc.Deploy("shop.knhk", []byte(shopSrc), nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Start(ctx, server.StartRequest{Workflow: "Hold", Input: []byte(`"a"`)}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Close(ctx); err != nil {
		t.Fatal(err)
	}

	var h metrics.Health
	h.Starting("recovering " + dir)
	front := metrics.NewFront(&h)
	ts := httptest.NewServer(front)
	defer ts.Close()
	if code, body := get(t, ts.URL+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz while starting: %d %q", code, body)
	}
	if code, body := get(t, ts.URL+"/readyz"); code != 503 || !strings.Contains(body, "recovering "+dir) {
		t.Errorf("/readyz while starting: %d %q", code, body)
	}
	if code, body := get(t, ts.URL+"/knhk.v1.KnhkService/ListCases"); code != 503 || !strings.Contains(body, `"code":"unavailable"`) {
		t.Errorf("an API call while starting: %d %q", code, body)
	}

	m := metrics.New(metrics.Options{NoProcess: true})
	svc, err = server.Open(dir, server.Options{IndexEvery: -1, Observer: m})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close(ctx)
	if st := svc.Stats(); st.Recovered+st.Parked != 1 {
		t.Fatalf("recovered %d and parked %d cases, want 1 in all", st.Recovered, st.Parked)
	}
	m.WatchCases(svc)
	m.WatchQueues(svc)
	mux := server.NewMux(svc, server.MuxOptions{Token: "s3cret"})
	metrics.Mount(mux, m, &h)
	h.SetCheck(svc.Err)
	front.Set(mux)
	// Mounted, but recovery is only declared finished by Ready.
	if code, _ := get(t, ts.URL+"/readyz"); code != 503 {
		t.Errorf("/readyz before Ready: %d", code)
	}
	h.Ready()
	if code, body := get(t, ts.URL+"/readyz"); code != 200 || body != "ready\n" {
		t.Errorf("/readyz when ready: %d %q", code, body)
	}
	if code, _ := get(t, ts.URL+"/healthz"); code != 200 {
		t.Errorf("/healthz when ready: %d", code)
	}
	// /metrics needs the token; the probes do not.
	if code, _ := get(t, ts.URL+"/metrics"); code != http.StatusUnauthorized {
		t.Errorf("/metrics without the token: %d", code)
	}
	req, _ := http.NewRequest("GET", ts.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `knhk_cases{status="running",workflow="Hold"} 1`) {
		t.Errorf("/metrics with the token: %s\n%s", resp.Status, b)
	}
	if strings.Contains(string(b), "go_goroutines") {
		t.Error("NoProcess served the Go collector")
	}
	h.Draining()
	if code, body := get(t, ts.URL+"/readyz"); code != 503 || !strings.Contains(body, "draining") {
		t.Errorf("/readyz when draining: %d %q", code, body)
	}
}

// TestHealthCheck: a failing check (the event log refusing appends)
// fails both probes with its reason, and they recover when it passes.
func TestHealthCheck(t *testing.T) {
	var h metrics.Health
	h.Ready()
	var mu sync.Mutex
	var fault error
	setFault := func(err error) { mu.Lock(); fault = err; mu.Unlock() }
	h.SetCheck(func() error { mu.Lock(); defer mu.Unlock(); return fault })
	mux := http.NewServeMux()
	mux.Handle("/healthz", h.Healthz())
	mux.Handle("/readyz", h.Readyz())
	ts := httptest.NewServer(mux)
	defer ts.Close()
	if code, _ := get(t, ts.URL+"/healthz"); code != 200 {
		t.Errorf("/healthz: %d", code)
	}
	setFault(errors.New("store: fsync: input/output error"))
	if code, body := get(t, ts.URL+"/healthz"); code != 503 || body != "unhealthy: store: fsync: input/output error\n" {
		t.Errorf("/healthz with a fault: %d %q", code, body)
	}
	if code, body := get(t, ts.URL+"/readyz"); code != 503 || body != "not ready: store: fsync: input/output error\n" {
		t.Errorf("/readyz with a fault: %d %q", code, body)
	}
	setFault(nil)
	if code, _ := get(t, ts.URL+"/readyz"); code != 200 {
		t.Errorf("/readyz after the fault: %d", code)
	}
}

// TestLogger checks the formats and levels of the server's logger and
// that lines written to a LineWriter become one record each.
func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	l, err := metrics.NewLogger(&buf, "json", "warn")
	if err != nil {
		t.Fatal(err)
	}
	w := metrics.LineWriter(l, slog.LevelWarn, "source", "task")
	io.WriteString(w, "first line\nsecond ")
	io.WriteString(w, "line\r\n\n  \nunterminated")
	l.Info("dropped below warn")
	w.Close()
	var got []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		got = append(got, rec)
	}
	want := []string{"first line", "second line", "unterminated"}
	if len(got) != len(want) {
		t.Fatalf("records %v, want messages %q", got, want)
	}
	for i, rec := range got {
		if rec["msg"] != want[i] || rec["level"] != "WARN" || rec["source"] != "task" {
			t.Errorf("record %d = %v, want msg %q at WARN from task", i, rec, want[i])
		}
		if _, err := time.Parse(time.RFC3339Nano, rec["time"].(string)); err != nil {
			t.Errorf("record %d: time %v", i, rec["time"])
		}
	}

	buf.Reset()
	l, err = metrics.NewLogger(&buf, "text", "")
	if err != nil {
		t.Fatal(err)
	}
	l.Debug("hidden")
	l.Info("listening", "url", "http://127.0.0.1:7233")
	if s := buf.String(); !strings.Contains(s, `level=INFO msg=listening url=http://127.0.0.1:7233`) || strings.Contains(s, "hidden") {
		t.Errorf("text log %q", s)
	}

	for _, c := range []struct{ format, level, msg string }{
		{"xml", "info", `unknown log format "xml" (want text or json)`},
		{"text", "loud", `unknown log level "loud" (want debug, info, warn or error)`},
	} {
		if _, err := metrics.NewLogger(io.Discard, c.format, c.level); err == nil || err.Error() != c.msg {
			t.Errorf("NewLogger(%q, %q) = %v, want %q", c.format, c.level, err, c.msg)
		}
	}
}
