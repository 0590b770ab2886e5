// This file tests knhk serve --license through the real server: starts
// and deploys beyond a limit are refused naming the limit, a case
// already running is never touched and finishes with its result, the
// monthly transitions are counted from the log across restarts, and an
// expired licence warns during its grace period and then refuses new
// starts while its cases run on.

package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	connect "connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/client"
	"github.com/knhk/knhk/runtime/license"
	"github.com/knhk/knhk/runtime/sign"
)

const licenseTiers = `{"version":1,"tiers":{
 "team":{"programs":1,"concurrent_cases":2,"grace_days":14},
 "tiny":{"transitions_per_month":3,"grace_days":14}}}`

// writeLicense issues a licence with the vendor key through the package
// (knhk license issue only issues licences valid from now on).
func writeLicense(t *testing.T, dir, name string, issued, expires time.Time, graceDays int64) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "vendor.key"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := sign.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	out, err := license.Issue(k, license.Payload{ID: "feed", Customer: "acme", Tier: "team", Limits: license.Limits{GraceDays: graceDays}, Issued: issued, Expires: expires})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, name), out, 0o644)
}

func startHold(t *testing.T, c *client.Client, id string) (string, error) {
	t.Helper()
	r, err := c.Start(context.Background(), &knhkv1.StartCaseRequest{Workflow: "Hold", InputJson: `"` + id + `"`})
	if err != nil {
		return "", err
	}
	return r.CaseId, nil
}

func wantRefused(t *testing.T, err error, limit string, srv *serveProc) {
	t.Helper()
	if err == nil {
		t.Fatalf("not refused; want a refusal naming %s\n%s", limit, srv.log())
	}
	if !strings.Contains(err.Error(), "licence limit "+limit) || client.Code(err) != connect.CodeFailedPrecondition {
		t.Fatalf("got %v (code %v); want a failed precondition naming licence limit %s", err, client.Code(err), limit)
	}
}

func approve(t *testing.T, c *client.Client, id, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.Signal(ctx, id, "Approve", `"ann"`); err != nil {
		t.Fatal(err)
	}
	s, err := c.Wait(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != "completed" || s.ResultJson != want {
		t.Fatalf("case %s: %s %s, want completed %s", id, s.Status, s.ResultJson, want)
	}
}

func TestServeLicense(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tiers.json"), []byte(licenseTiers), 0o644)
	if code, _, errs := knhkProc(t, dir, "keygen", "--alg", "mldsa65-ed25519", "-o", "vendor.key"); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := knhkProc(t, dir, "license", "issue", "--key", "vendor.key", "--tiers", "tiers.json", "--tier", "team", "--customer", "acme", "--days", "30", "-o", "acme.lic"); code != 0 {
		t.Fatal(errs)
	}
	lic := []string{"--license", "acme.lic", "--license-trust", "vendor.key.pub"}
	srv := startServe(t, dir, "data", lic...)
	c := client.New(srv.url)
	ctx := context.Background()
	if _, err := c.Deploy(ctx, "hold.knhk", []byte(serveSource)); err != nil {
		t.Fatal(err)
	}
	// The same program again is no new program; another one is.
	if _, err := c.Deploy(ctx, "hold.knhk", []byte(serveSource)); err != nil {
		t.Fatalf("redeploy: %v", err)
	}
	_, err := c.Deploy(ctx, "other.knhk", []byte(strings.Replace(serveSource, "n + 1", "n + 2", 1)))
	wantRefused(t, err, "programs", srv)

	a, err := startHold(t, c, "a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := startHold(t, c, "b"); err != nil {
		t.Fatal(err)
	}
	_, err = startHold(t, c, "c")
	wantRefused(t, err, "concurrent_cases", srv)
	// The running cases are untouched by the refusal: a finishes with
	// its result, and then a new start fits.
	approve(t, c, a, `"a by ann"`)
	held, err := startHold(t, c, "c")
	if err != nil {
		t.Fatalf("start after a case ended: %v", err)
	}
	// The licence's metrics: its transitions counter agrees with the
	// server's own, and is labelled with the customer.
	_, body := srv.get(t, "/metrics", "")
	all := metricValue(t, body, "knhk_transitions_total ")
	mine := metricValue(t, body, `knhk_license_transitions_total{customer="acme",tenant=""} `)
	if all == 0 || mine != all || metricValue(t, body, `knhk_license_month_transitions{customer="acme",tenant=""} `) != all {
		t.Fatalf("licence transitions %v, server transitions %v in\n%s", mine, all, body)
	}
	if metricValue(t, body, `knhk_license_log_bytes_total{customer="acme",tenant=""} `) == 0 {
		t.Fatalf("no log bytes counted in\n%s", body)
	}
	if code := srv.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("serve exit %d\n%s", code, srv.log())
	}

	// A tampered licence: serve does not start, and says why.
	b, _ := os.ReadFile(filepath.Join(dir, "acme.lic"))
	blk := strings.SplitN(string(b), "\n", 4) // BEGIN, Version, blank, the payload's base64...
	os.WriteFile(filepath.Join(dir, "bad.lic"), []byte(blk[0]+"\n"+blk[1]+"\n"+blk[2]+"\n"+strings.Replace(blk[3], "A", "B", 1)), 0o644)
	if code, _, errs := knhkProc(t, dir, "serve", "--data", "data", "--listen", "127.0.0.1:0", "--license", "bad.lic", "--license-trust", "vendor.key.pub"); code != 1 || !strings.Contains(errs, "licence bad.lic") {
		t.Fatalf("tampered licence: exit %d %q", code, errs)
	}

	// In the grace period: starts go on, with a warning in the log.
	now := time.Now().UTC()
	writeLicense(t, dir, "grace.lic", now.AddDate(0, 0, -40), now.AddDate(0, 0, -10), 14)
	srv = startServe(t, dir, "data", "--license", "grace.lic", "--license-trust", "vendor.key.pub")
	c = client.New(srv.url)
	if _, err := startHold(t, c, "d"); err != nil {
		t.Fatalf("start in the grace period: %v", err)
	}
	if code := srv.stop(t, syscall.SIGTERM); code != 0 || !strings.Contains(srv.log(), "in its grace period until") {
		t.Fatalf("grace: exit %d, want a warning in\n%s", code, srv.log())
	}

	// Past the grace period: new starts and deploys are refused, the
	// waiting cases still finish.
	writeLicense(t, dir, "old.lic", now.AddDate(0, 0, -40), now.AddDate(0, 0, -10), 5)
	srv = startServe(t, dir, "data", "--license", "old.lic", "--license-trust", "vendor.key.pub")
	c = client.New(srv.url)
	_, err = startHold(t, c, "e")
	wantRefused(t, err, "expiry", srv)
	_, err = c.Deploy(ctx, "other.knhk", []byte(strings.Replace(serveSource, "n + 1", "n + 3", 1)))
	wantRefused(t, err, "expiry", srv)
	approve(t, c, held, `"c by ann"`)
	if code := srv.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("serve exit %d\n%s", code, srv.log())
	}

	// Transitions per month are counted from the log when the server
	// opens. The signed usage report says how many this month's cases
	// fired and reconciles with the log; a licence allowing exactly that
	// many refuses the next start, one allowing one more admits it.
	if code, _, errs := knhkProc(t, dir, "keygen", "--alg", "mldsa65-ed25519", "-o", "operator.key"); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := knhkProc(t, dir, "usage", "report", "--key", "operator.key", "--license", "acme.lic", "--data", "data", "-o", "dec.usage"); code != 0 {
		t.Fatal(errs)
	}
	code, out, errs := knhkProc(t, dir, "usage", "verify", "--trust", "operator.key.pub", "--data", "data", "dec.usage")
	if code != 0 || !strings.Contains(out, "reconciled with the event log of data") || !strings.Contains(out, "customer:      acme") {
		t.Fatalf("usage verify: %d %q %q", code, out, errs)
	}
	var used int
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "transitions:"); ok {
			used, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if used == 0 {
		t.Fatalf("no transitions in %q", out)
	}
	for _, c := range []struct {
		limit  int
		refuse bool
	}{{used, true}, {used + 1, false}} {
		if code, _, errs := knhkProc(t, dir, "license", "issue", "--key", "vendor.key", "--tiers", "tiers.json", "--tier", "tiny", "--customer", "acme", "--days", "30",
			"--set", "transitions_per_month="+strconv.Itoa(c.limit), "-o", "tiny.lic"); code != 0 {
			t.Fatal(errs)
		}
		srv = startServe(t, dir, "data", "--license", "tiny.lic", "--license-trust", "vendor.key.pub")
		_, err = startHold(t, client.New(srv.url), "f")
		if c.refuse {
			wantRefused(t, err, "transitions_per_month", srv)
		} else if err != nil {
			t.Fatalf("%d transitions of %d: %v", used, c.limit, err)
		} else {
			taskSeconds(t, srv)
		}
		if code := srv.stop(t, syscall.SIGTERM); code != 0 {
			t.Fatalf("serve exit %d\n%s", code, srv.log())
		}
	}
}

// metricValue returns the value of the series whose line starts with
// prefix in a Prometheus text exposition.
func metricValue(t *testing.T, body, prefix string) float64 {
	t.Helper()
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("no series %q in\n%s", prefix, body)
	return 0
}

// taskSeconds runs a case whose task sleeps 50ms and checks that
// knhk_license_task_seconds_total counted at least that.
func taskSeconds(t *testing.T, srv *serveProc) {
	t.Helper()
	c := client.New(srv.url)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	src := `package nap

task slow(n: int) -> int exec "sh" "-c" "cat >/dev/null; sleep 0.05; echo 8"

workflow Nap(n: int) -> int {
  let r = slow(n)
  return r
}
`
	if _, err := c.Deploy(ctx, "nap.knhk", []byte(src)); err != nil {
		t.Fatal(err)
	}
	r, err := c.Start(ctx, &knhkv1.StartCaseRequest{Workflow: "Nap", InputJson: "4"})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := c.Wait(ctx, r.CaseId); err != nil || s.ResultJson != "8" {
		t.Fatalf("nap: %v %v", s, err)
	}
	_, body := srv.get(t, "/metrics", "")
	if v := metricValue(t, body, `knhk_license_task_seconds_total{customer="acme",tenant=""} `); v < 0.03 {
		t.Fatalf("task seconds %v, want at least 0.03", v)
	}
}
