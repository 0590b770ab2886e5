// This file tests knhk serve --node and knhk cluster as processes on
// loopback: three nodes, a case started through a follower, the leader
// killed, and the case finished on the new leader.

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/cluster"
)

const clusterSource = `package app

workflow Hold(id: string) -> string {
  signal Approve(by: string)
  select {
    on signal Approve(by: string) -> { return id + " by " + by }
    on timer 48h -> { fail "nobody approved" }
  }
}
`

// clusterStatusOf reads the status of the node at url.
func clusterStatusOf(t *testing.T, dir, url string) (*cluster.Status, bool) {
	code, out, _ := knhkProc(t, dir, "cluster", "--server", url, "--json", "status")
	if code != 0 {
		return nil, false
	}
	var st cluster.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	return &st, true
}

// voters counts the voters among st's members.
func voters(st *cluster.Status) int {
	v := 0
	for _, m := range st.Members {
		if m.Suffrage == "Voter" {
			v++
		}
	}
	return v
}

func TestClusterProcessesSurviveLeaderKill(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.knhk"), []byte(clusterSource), 0o666); err != nil {
		t.Fatal(err)
	}
	procs := map[string]*serveProc{}
	defer func() {
		for _, p := range procs {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	}()
	node := func(id, region string, join string) *serveProc {
		args := []string{"--node", id, "--raft", "127.0.0.1:0", "--labels", "region=" + region, "app.knhk"}
		if join != "" {
			args = append(args, "--join", join)
		}
		p := startServe(t, dir, "d-"+id, args...)
		procs[id] = p
		return p
	}
	n1 := node("n1", "a", "")
	node("n2", "b", n1.url)
	n3 := node("n3", "c", n1.url)
	waitUntil(t, "three voters", func() bool {
		st, ok := clusterStatusOf(t, dir, n3.url)
		if !ok {
			return false
		}
		return voters(st) == 3 && st.Leader == "n1"
	})

	// A node serves /metrics as knhk serve does, and says it follows.
	resp, err := http.Get(n3.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(mb), "\nknhk_cluster_leader 0\n") || !strings.Contains(string(mb), "knhk_events_total") {
		t.Fatalf("/metrics on a follower: %d\n%s", resp.StatusCode, mb)
	}

	// knhk run and signal with --server work against the cluster as
	// against one knhk serve (the Connect API, forwarded by followers).
	code, _, errb := knhkProc(t, dir, "run", "--server", n3.url, "app.knhk", "--input-json", `"c2"`)
	m := regexp.MustCompile(`case (\S+)`).FindStringSubmatch(errb)
	if code != 0 || m == nil || !strings.Contains(errb, "waiting for signal Approve") {
		t.Fatalf("run --server: exit %d\n%s", code, errb)
	}
	// The web console on a follower: its pages, the waiting case as its
	// page shows it (read from the replicated state), its graph and its
	// program, and the list of cases through the Connect API.
	consoleOnCluster(t, n3, m[1])
	code, out, errb := knhkProc(t, dir, "signal", "--server", procs["n2"].url, m[1], "Approve", `{"by":"bob"}`)
	if code != 0 || strings.TrimSpace(out) != `"c2 by bob"` {
		t.Fatalf("signal --server: exit %d\n%s%s", code, out, errb)
	}

	// A follower forwards the start to the leader.
	if code, _, errb := knhkProc(t, dir, "cluster", "--server", n3.url, "start", "c1", "--workflow", "Hold", "--input", `"c1"`); code != 0 {
		t.Fatalf("start: %s", errb)
	}
	// Another node with another program is refused, naming why.
	other := strings.Replace(clusterSource, `" by "`, `" approved by "`, 1)
	if err := os.WriteFile(filepath.Join(dir, "other.knhk"), []byte(other), 0o666); err != nil {
		t.Fatal(err)
	}
	code, _, errb = knhkProc(t, dir, "serve", "--data", "d-x", "--listen", "127.0.0.1:0", "--node", "x", "--raft", "127.0.0.1:0", "--join", n1.url, "other.knhk")
	if code != 1 || !strings.Contains(errb, "program version mismatch") {
		t.Fatalf("a node of another program: exit %d\n%s", code, errb)
	}
	// knhk run --server with another version deploys it through the
	// log: its case runs the new version, c2 kept its own.
	code, _, errb = knhkProc(t, dir, "run", "--server", n3.url, "other.knhk", "--input-json", `"c3"`)
	m3 := regexp.MustCompile(`case (\S+)`).FindStringSubmatch(errb)
	if code != 0 || m3 == nil {
		t.Fatalf("run --server of another version: exit %d\n%s", code, errb)
	}
	code, out, errb = knhkProc(t, dir, "signal", "--server", procs["n2"].url, m3[1], "Approve", `{"by":"cy"}`)
	if code != 0 || strings.TrimSpace(out) != `"c3 approved by cy"` {
		t.Fatalf("signal of the deployed version: exit %d\n%s%s", code, out, errb)
	}
	// So is a second node that takes n2's id.
	code, _, errb = knhkProc(t, dir, "serve", "--data", "d-y", "--listen", "127.0.0.1:0", "--node", "n2", "--raft", "127.0.0.1:0", "--join", n1.url, "app.knhk")
	if code != 1 || !strings.Contains(errb, "node id in use") {
		t.Fatalf("a reused id: exit %d\n%s", code, errb)
	}

	procs["n1"].cmd.Process.Kill()
	procs["n1"].cmd.Wait()
	delete(procs, "n1")
	// The client retries through n3 while the others elect a leader.
	if code, _, errb := knhkProc(t, dir, "cluster", "--server", n3.url, "signal", "c1", "Approve", "--payload", `{"by":"ann"}`); code != 0 {
		t.Fatalf("signal after the leader's death: %s", errb)
	}
	code, out, errb = knhkProc(t, dir, "cluster", "--server", n3.url, "get", "c1")
	if code != 0 {
		t.Fatalf("get: %s", errb)
	}
	var v struct {
		Status string `json:"status"`
		Result string `json:"result"`
		Node   string `json:"node"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if v.Status != "completed" || v.Result != "c1 by ann" || v.Node == "n1" {
		t.Fatalf("c1 after failover: %s", out)
	}
	// The history and the export of a case that ran on the dead leader,
	// read through a follower from the new leader's replica.
	code, out, errb = knhkProc(t, dir, "history", "--server", n3.url, "--detail", m[1])
	if code != 0 || !strings.Contains(out, " start Hold") || !strings.Contains(out, " signal Approve") {
		t.Fatalf("history --server after failover: exit %d\n%s%s", code, out, errb)
	}
	// n3's own copy of c1's history (it may lag the leader a moment).
	waitUntil(t, "c1's history on n3", func() bool {
		code, out, _ := knhkProc(t, dir, "cluster", "--server", n3.url, "history", "--stale", "--detail", "c1")
		return code == 0 && strings.Contains(out, `"step":"Approve"`) && strings.Contains(out, `"node":"n3"`)
	})
	code, out, errb = knhkProc(t, dir, "export", "--server", procs["n2"].url, "--csv")
	if code != 0 || !strings.Contains(out, m[1]+",signal Approve,") || !strings.Contains(out, "c1,signal Approve,") {
		t.Fatalf("export --server after failover: exit %d\n%s%s", code, out, errb)
	}
	// With n1 dead and n2 paused, n3 has no quorum: knhk history --stale
	// still answers, from n3's own copy. First let n3 apply c1's end (its
	// copy may lag the leader's a moment; without a quorum it would never
	// learn that the end committed).
	waitUntil(t, "c1 completed in n3's own copy", func() bool {
		code, body := n3.get(t, "/console/api/case?id=c1&consistency=stale", "")
		return code == 200 && strings.Contains(body, `"status": "completed"`)
	})
	if err := procs["n2"].cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer procs["n2"].cmd.Process.Signal(syscall.SIGCONT)
	code, out, errb = knhkProc(t, dir, "history", "--server", n3.url, "--stale", "--detail", "c1")
	if code != 0 || !strings.Contains(out, " signal Approve") {
		t.Fatalf("history --stale on a node without a quorum: exit %d\n%s%s", code, out, errb)
	}
	// So does the console's case page, asked for n3's own copy.
	if code, body := n3.get(t, "/console/api/case?id=c1&consistency=stale", ""); code != 200 || !strings.Contains(body, `"status": "completed"`) {
		t.Fatalf("console case page, stale, without a quorum: %d %s", code, body)
	}
	if code, _, errb := knhkProc(t, dir, "history", "--stale", "c1"); code != 1 || !strings.Contains(errb, "--server") {
		t.Fatalf("history --stale without --server: exit %d %s", code, errb)
	}
}

// consoleOnCluster checks the web console a node serves: the pages at
// /, and case id, waiting for its Approve signal, on its case page's
// endpoints.
func consoleOnCluster(t *testing.T, p *serveProc, id string) {
	t.Helper()
	if code, body := p.get(t, "/", ""); code != 200 || !strings.Contains(body, "<html") || !strings.Contains(body, "app.js") {
		t.Fatalf("console / on a cluster node: %d\n%s", code, body)
	}
	if code, body := p.get(t, "/app.js", ""); code != 200 || !strings.Contains(body, "/console/api/case") {
		t.Fatalf("console /app.js on a cluster node: %d", code)
	}
	code, body := p.get(t, "/console/api/case?id="+id, "")
	var cv struct {
		Summary struct{ Status, Workflow string }
		Program string
		Signals []struct{ Name string }
		History []struct{ Kind string }
	}
	if code != 200 || json.Unmarshal([]byte(body), &cv) != nil {
		t.Fatalf("console case %s on a cluster node: %d\n%s", id, code, body)
	}
	if cv.Summary.Status != "running" || cv.Program == "" || len(cv.Signals) != 1 || cv.Signals[0].Name != "Approve" || len(cv.History) == 0 {
		t.Fatalf("console case %s on a cluster node: %s", id, body)
	}
	if code, body := p.get(t, "/console/api/graph?case="+id, ""); code != 200 || !strings.Contains(body, "<svg") {
		t.Fatalf("console graph on a cluster node: %d\n%.300s", code, body)
	}
	if code, body := p.get(t, "/console/api/program?hash="+cv.Program, ""); code != 200 || !strings.Contains(body, "workflow Hold") {
		t.Fatalf("console program on a cluster node: %d\n%.300s", code, body)
	}
	if code, body := p.get(t, "/console/api/case?id=no-such-case", ""); code != 404 {
		t.Fatalf("console: an unknown case on a cluster node: %d %s", code, body)
	}
	req, _ := http.NewRequest("POST", p.url+"/knhk.v1.KnhkService/ListCases", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	lb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(lb), id) {
		t.Fatalf("ListCases as the console calls it: %d %s", resp.StatusCode, lb)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestBFTValidatorsAsProcesses writes four validator homes with knhk
// cluster bft-init, runs each as knhk serve --bft (one drives), and
// runs a case through them with knhk cluster.
func TestBFTValidatorsAsProcesses(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.knhk"), []byte(clusterSource), 0o666); err != nil {
		t.Fatal(err)
	}
	base := strconv.Itoa(21000 + rand.IntN(8000))
	if code, _, errb := knhkProc(t, dir, "cluster", "bft-init", "--dir", "net", "--validators", "4", "--base-port", base); code != 0 {
		t.Fatalf("bft-init: %s", errb)
	}
	var vs []*serveProc
	defer func() {
		for _, p := range vs {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	}()
	for i := range 4 {
		args := []string{"--bft", fmt.Sprintf("net/v%d", i), "app.knhk"}
		if i == 0 {
			args = append(args, "--drive")
		}
		vs = append(vs, startServe(t, dir, fmt.Sprintf("net/v%d/knhk", i), args...))
	}
	cl := func(url string, args ...string) (int, string, string) {
		return knhkProc(t, dir, append([]string{"cluster", "--server", url}, args...)...)
	}
	if code, _, errb := cl(vs[0].url, "start", "b1", "--workflow", "Hold", "--input", `"b1"`); code != 0 {
		t.Fatalf("start on the driver: %s", errb)
	}
	// A validator that does not drive forwards the write to the driver.
	if code, _, errb := cl(vs[1].url, "start", "b2", "--workflow", "Hold", "--input", `"b2"`); code != 0 {
		t.Fatalf("start on a validator that does not drive: exit %d %s", code, errb)
	}
	if code, _, errb := cl(vs[0].url, "signal", "b1", "Approve", "--payload", `{"by":"val"}`); code != 0 {
		t.Fatalf("signal: %s", errb)
	}
	waitUntil(t, "b1 to complete on v3", func() bool {
		_, out, _ := cl(vs[3].url, "get", "b1")
		return strings.Contains(out, `"status":"completed"`) && strings.Contains(out, `"result":"b1 by val"`)
	})
}
