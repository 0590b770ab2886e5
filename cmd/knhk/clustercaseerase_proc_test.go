// This file tests the erasure of one case on a raft cluster (knhk case
// erase --server URL CASE on knhk serve --node --tenants, a tenant
// created with --encrypt, and the operator's --tenant T CASE) as three
// processes: the case reads back from
// no node, every node destroys its key of the case, a node that was
// down during the erasure does so when it comes back, nothing of the
// case is in clear on any node's disk, every node restarts on what is
// left, and the tenant's other case is intact everywhere.

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/runtime/cluster"
)

func TestClusterCaseEraseProcesses(t *testing.T) {
	dir := tenantClusterDir(t)
	type node struct{ raft, api string }
	addrs := map[string]node{}
	for _, n := range []string{"n1", "n2", "n3"} {
		addrs[n] = node{freeAddr(t), freeAddr(t)}
	}
	procs := map[string]*serveProc{}
	defer func() {
		for _, p := range procs {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	}()
	start := func(n string) {
		args := []string{"--listen", addrs[n].api, "--node", n, "--raft", addrs[n].raft, "--tenants", "--token-file", "token"}
		if n != "n1" {
			args = append(args, "--join", "http://"+addrs["n1"].api)
		}
		procs[n] = startServe(t, dir, "d-"+n, append(args, "app.knhk")...)
	}
	for _, n := range []string{"n1", "n2", "n3"} {
		start(n)
	}
	waitLong(t, "3 voters", func() bool {
		code, body := procs["n1"].get(t, cluster.StatusPath, clusterToken)
		var st cluster.Status
		return code == http.StatusOK && json.Unmarshal([]byte(body), &st) == nil && voters(&st) == 3
	})
	code, gamma, errb := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + clusterToken}, "tenant", "create", "--server", procs["n1"].url, "--encrypt", "gamma")
	gamma = strings.TrimSpace(gamma)
	if code != 0 {
		t.Fatalf("creating gamma: %s", errb)
	}
	env := []string{"KNHK_TOKEN=" + gamma}
	const erased, kept, byOperator = "gamma-erased-secret-41", "gamma-kept-secret-42", "gamma-operator-secret-43"
	for id, secret := range map[string]string{"g1": erased, "g2": kept, "g3": byOperator} {
		waitLong(t, "gamma's start of "+id, func() bool {
			code, _, _ := knhkEnv(t, dir, env, "cluster", "--server", procs["n2"].url, "start", id, "--workflow", "Hold", "--input", `"`+secret+`"`)
			return code == 0
		})
		waitLong(t, id+" to end on every node", func() bool {
			knhkEnv(t, dir, env, "signal", "--server", procs["n3"].url, id, "Approve", `{"by":"ann"}`)
			for name, p := range procs {
				code, body := p.get(t, "/cluster/v1/cases/"+id+"?consistency=stale", gamma)
				if code != http.StatusOK || !strings.Contains(body, secret+" by ann") || !strings.Contains(body, `"node":"`+name+`"`) {
					return false
				}
			}
			return true
		})
	}
	// Refused with a clear error: a case that does not exist.
	if code, _, errb := knhkEnv(t, dir, env, "case", "erase", "--server", procs["n1"].url, "nope"); code == 0 || !strings.Contains(errb, "nope") {
		t.Fatalf("erasing a case that does not exist: %d %s", code, errb)
	}

	groupDir := func(n string) string { return filepath.Join(dir, "d-"+n, "cluster", n, "tenants", "gamma") }
	keyFile := func(n, id string) string {
		h := sha256.Sum256([]byte("knhk:raft-case:" + id))
		return filepath.Join(groupDir(n), audit.Dir, audit.KeysDir, audit.CaseKeysDir, hex.EncodeToString(h[:])+".sealed")
	}
	// n3 is down during the erasure.
	procs["n3"].cmd.Process.Signal(syscall.SIGKILL)
	procs["n3"].cmd.Wait()
	delete(procs, "n3")
	var out string
	waitLong(t, "g1's erasure through n2", func() bool {
		code, o, errb := knhkEnv(t, dir, env, "case", "erase", "--server", procs["n2"].url, "g1")
		if code != 0 && !strings.Contains(errb, "unavailable") {
			t.Fatalf("erasing g1: %d %s", code, errb)
		}
		out = o
		return code == 0
	})
	if !strings.Contains(out, "case g1 of tenant gamma erased") {
		t.Fatalf("the erasure's answer: %s", out)
	}
	// Acknowledged: no live node holds g1's key any more.
	for n := range procs {
		if _, err := os.Stat(keyFile(n, "g1")); !os.IsNotExist(err) {
			t.Fatalf("%s still holds g1's key once its erasure is acknowledged: %v", n, err)
		}
	}
	// The operator erases another tenant's case, naming the tenant.
	if code, out, errb := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + clusterToken}, "case", "erase", "--server", procs["n1"].url, "--tenant", "gamma", "g3"); code != 0 || !strings.Contains(out, "case g3 of tenant gamma erased") {
		t.Fatalf("the operator's erasure of g3: %d %s %s", code, out, errb)
	}
	start("n3")

	check := func() {
		for name, p := range procs {
			for id, secret := range map[string]string{"g1": erased, "g3": byOperator} {
				waitLong(t, id+" erased on "+name, func() bool {
					code, body := p.get(t, "/cluster/v1/cases/"+id+"?consistency=stale", gamma)
					if strings.Contains(body, secret) {
						t.Fatalf("%s reads %s's data back after its erasure: %d %s", name, id, code, body)
					}
					return code == http.StatusNotFound && strings.Contains(body, "erased")
				})
				waitLong(t, id+"'s key destroyed on "+name, func() bool {
					_, err := os.Stat(keyFile(name, id))
					return os.IsNotExist(err)
				})
				for _, path := range []string{"/cluster/v1/cases/" + id, "/cluster/v1/cases/" + id + "/history", "/cluster/v1/cases"} {
					if code, body := p.get(t, path, gamma); strings.Contains(body, secret) || path != "/cluster/v1/cases" && code != http.StatusNotFound {
						t.Fatalf("GET %s through %s after the erasure: %d %s", path, name, code, body)
					}
				}
				if code, body := connectCall(t, p.url, "GetCase", gamma, `{"caseId":"`+id+`"}`); code == http.StatusOK || strings.Contains(body, secret) {
					t.Fatalf("GetCase %s through %s after the erasure: %d %s", id, name, code, body)
				}
				filepath.WalkDir(filepath.Join(dir, "d-"+name), func(path string, d os.DirEntry, err error) error {
					if err == nil && !d.IsDir() {
						if b, _ := os.ReadFile(path); strings.Contains(string(b), secret) {
							t.Errorf("%s holds %s's data in clear", path, id)
						}
					}
					return nil
				})
			}
			if code, body := p.get(t, "/cluster/v1/cases/g2?consistency=stale", gamma); code != http.StatusOK || !strings.Contains(body, kept+" by ann") {
				t.Fatalf("g2 on %s after the erasures: %d %s", name, code, body)
			}
			if _, err := os.Stat(keyFile(name, "g2")); err != nil {
				t.Fatalf("g2's key on %s: %v", name, err)
			}
		}
	}
	check()
	// Every node restarts on what is left: raft never reads what the
	// destroyed keys sealed.
	for _, n := range []string{"n1", "n2", "n3"} {
		procs[n].stop(t, syscall.SIGTERM)
		delete(procs, n)
	}
	for _, n := range []string{"n1", "n2", "n3"} {
		start(n)
	}
	waitLong(t, "gamma's group led again", func() bool {
		st, ok := groupStatus(t, procs["n1"], "gamma")
		return ok && st.Leader != ""
	})
	check()
	// The erasure was audited in the cluster's chain.
	if code, out, errb := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + clusterToken}, "audit", "export", "--server", procs["n1"].url, "--format", "json"); code != 0 || !strings.Contains(out, "case_id=g1") || !strings.Contains(out, "case_id=g3") {
		t.Fatalf("the audit export: %d %s", code, fmt.Sprint(errb, out))
	}
}
