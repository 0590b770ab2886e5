// This file tests that a raft cluster's accelerator time is the log's,
// whichever node ran the kernel calls: a follower's own queries' calls
// (a stale read it answers itself) are posted to its group's leader and
// proposed into the tenant's log, so the signed usage report counted at
// any node carries every node's calls and reconciles at the other.

package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/knhk/knhk/runtime/meter"
	"github.com/knhk/knhk/server"
)

func TestClusterFollowerAcceleratorProcesses(t *testing.T) {
	if _, err := exec.LookPath("vulkaninfo"); err != nil {
		t.Skip("no Vulkan device (vulkaninfo not found)")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "app.knhk"), []byte(clusterAccelSource), 0o644)
	os.WriteFile(filepath.Join(dir, "token"), []byte(clusterToken+"\n"), 0o600)
	must := mustKnhkIn(t, dir)
	must("keygen", "--alg", "mldsa65-ed25519", "-o", "operator.key")
	acme := must("tenant", "create", "--data", "d-n1", "acme")
	t.Setenv("KNHK_DEVICE", "vulkan") // the nodes' environment
	t.Setenv("KNHK_DEVICE_MIN", "1")
	procs, stop := twoNodeTenants(t, dir, "acme")
	defer stop()
	as := func(args ...string) (int, string, string) {
		t.Helper()
		return knhkEnv(t, dir, []string{"KNHK_TOKEN=" + acme}, args...)
	}
	st, _ := groupStatus(t, procs["n1"], "acme")
	leader, follower := procs[st.Leader], procs["n1"]
	if st.Leader == "n1" {
		follower = procs["n2"]
	}
	if leader == nil {
		t.Fatalf("acme's leader %q", st.Leader)
	}
	code, _, errs := as("run", "--server", leader.url, "--input-json", "[1.5,2,3,-4,5.25]", "app.knhk")
	m := regexp.MustCompile(`case (\S+) is waiting for signal Go`).FindStringSubmatch(errs)
	if code != 0 || m == nil {
		t.Fatalf("acme's Hold: %d %q", code, errs)
	}
	id := m[1]
	calls := func(p *serveProc) float64 {
		t.Helper()
		_, body := p.get(t, "/metrics", acme)
		return metricValue(t, body, `knhk_accelerator_calls_total{tenant="acme"} `)
	}
	// Two stale queries the follower answers itself, one on the leader.
	stale := func(p *serveProc) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, p.url+"/knhk.v1.KnhkService/QueryCase", strings.NewReader(`{"caseId":"`+id+`","name":"scaled"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+acme)
		req.Header.Set(server.ConsistencyHeader, "stale")
		waitLong(t, "a stale query of "+id, func() bool {
			resp, err := http.DefaultClient.Do(req.Clone(req.Context()))
			if err != nil {
				return false
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Logf("stale query at %s: %d %s", p.url, resp.StatusCode, b)
			}
			return resp.StatusCode == http.StatusOK
		})
	}
	stale(follower)
	stale(follower)
	stale(leader)
	if f, l := calls(follower), calls(leader); f != 2 || l != 1 {
		t.Fatalf("calls the nodes ran: follower %v, leader %v, want 2 and 1", f, l)
	}
	// The report, made at the follower, counts all three from the log.
	var u meter.Usage
	waitLong(t, "acme's log to carry the follower's accelerator calls", func() bool {
		if code, _, errs := as("usage", "report", "--key", "operator.key", "--customer", "acme-inc", "--server", follower.url, "-o", "acme.usage"); code != 0 {
			t.Fatalf("usage report: %q", errs)
		}
		b, err := os.ReadFile(filepath.Join(dir, "acme.usage"))
		if err != nil {
			t.Fatal(err)
		}
		r, err := meter.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		u = r.Usage
		return u.AcceleratorCalls >= 3
	})
	if u.AcceleratorCalls != 3 || u.AcceleratorNS <= 0 {
		t.Fatalf("acme's report: %+v, want 3 accelerator calls", u)
	}
	code, out, errs := as("usage", "verify", "--trust", "operator.key.pub", "--server", leader.url, "acme.usage")
	if code != 0 || !strings.Contains(out, " in 3 calls") {
		t.Fatalf("verify at the leader: %d %s %q", code, out, errs)
	}
}
