// This file tests, as processes, that a raft cluster's audit record of
// an action survives a crash of the node that carried it out, right
// after the write: a record appended after its write (the former
// design) is lost there.

package main

import (
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/runtime/cluster"
)

// TestClusterAuditCrashProcesses: five nodes with --tenants. The
// cluster's leader exits (KNHK_FAULT) right after it committed a
// tenant's creation, before anything else: every survivor's chain holds
// the creation's record, which rode in the creation's own entry. Then
// acme's group leader exits right after it committed a signal to acme's
// case: every survivor holds the signal and, in the cluster's chain,
// the signal's intent record, committed before the signal was proposed
// (its outcome record never came). The survivors' exports verify
// offline.
func TestClusterAuditCrashProcesses(t *testing.T) {
	t.Setenv("KNHK_FAULT", "file")
	dir := tenantClusterDir(t)
	procs, stop := tenantNodesWith(t, dir, 5, []string{"--voters", "5"})
	defer stop()
	as := func(tok string, args ...string) (int, string, string) {
		t.Helper()
		return knhkEnv(t, dir, []string{"KNHK_TOKEN=" + tok}, args...)
	}
	some := func() *serveProc { return procs[slices.Sorted(maps.Keys(procs))[0]] }
	leaderOf := func(group string) string {
		var id string
		waitLong(t, "a leader of "+group+" known to the survivors", func() bool {
			for _, p := range procs {
				var st *cluster.Status
				if group == "" {
					code, body := p.get(t, cluster.StatusPath, clusterToken)
					var s cluster.Status
					if code != http.StatusOK || json.Unmarshal([]byte(body), &s) != nil {
						return false
					}
					st = &s
				} else if s, ok := groupStatus(t, p, group); ok {
					st = s
				} else {
					return false
				}
				if st.Leader == "" || procs[st.Leader] == nil || id != "" && st.Leader != id {
					return false
				}
				id = st.Leader
			}
			return true
		})
		return id
	}
	crashAfter := func(id, action string, call func(p *serveProc)) {
		t.Helper()
		p := procs[id]
		if err := os.WriteFile(filepath.Join(dir, "d-"+id, "fault"), []byte("exit-after-cluster-write="+action), 0o644); err != nil {
			t.Fatal(err)
		}
		call(p)
		<-p.done
		if err := p.cmd.Wait(); err == nil || !strings.Contains(p.log(), "KNHK_FAULT: exiting after") {
			t.Fatalf("%s did not crash after %s: %v\n%s", id, action, err, p.log())
		}
		delete(procs, id)
	}
	// exports returns every survivor's export of the cluster's chain.
	exports := func() []*audit.Evidence {
		var evs []*audit.Evidence
		for id, p := range procs {
			f := "crash-" + id + ".json"
			if code, _, errb := as(clusterToken, "audit", "export", "--server", p.url, "-o", f); code != 0 {
				t.Fatalf("export from %s: %s", id, errb)
			}
			b, _ := os.ReadFile(filepath.Join(dir, f))
			ev, err := audit.DecodeEvidence(b)
			if err != nil {
				t.Fatal(err)
			}
			if code, out, errb := knhkEnv(t, dir, nil, "audit", "verify", "--evidence", f); code != 0 {
				t.Fatalf("verify %s: %s %s", f, out, errb)
			}
			evs = append(evs, ev)
		}
		return evs
	}
	find := func(ev *audit.Evidence, match func(*audit.Record) bool) []*audit.Record {
		var out []*audit.Record
		for _, e := range ev.Records {
			if e.Record != nil && match(e.Record) {
				out = append(out, e.Record)
			}
		}
		return out
	}

	code, acme, errb := as(clusterToken, "tenant", "create", "--server", some().url, "acme")
	if code != 0 {
		t.Fatalf("create: %s", errb)
	}
	acme = strings.TrimSpace(acme)
	waitLong(t, "acme's group on five voters", func() bool {
		for _, p := range procs {
			if st, ok := groupStatus(t, p, "acme"); !ok || st.Leader == "" || voters(st) != 5 {
				return false
			}
		}
		return true
	})
	if code, _, errb := as(acme, "cluster", "--server", some().url, "start", "a1", "--workflow", "Hold", "--input", `"a1"`); code != 0 {
		t.Fatalf("acme's start: %s", errb)
	}

	// The cluster's own group: its leader crashes after committing beta.
	own := leaderOf("")
	crashAfter(own, "knhk tenant create", func(p *serveProc) {
		as(clusterToken, "tenant", "create", "--server", p.url, "beta")
	})
	waitLong(t, "beta's creation and its record on every survivor", func() bool {
		for _, ev := range exports() {
			if len(find(ev, func(r *audit.Record) bool {
				return r.Action == "knhk tenant create" && slices.Contains(r.Targets, "tenant=beta") && r.Result == audit.ResultOK
			})) != 1 {
				return false
			}
		}
		for _, p := range procs {
			if code, out, _ := as(clusterToken, "tenant", "list", "--server", p.url); code != 0 || !strings.Contains(out, "beta") {
				return false
			}
		}
		return true
	})

	// acme's group: its leader crashes after committing the signal.
	gl := leaderOf("acme")
	crashAfter(gl, "SignalCase", func(p *serveProc) {
		as(acme, "signal", "--server", p.url, "a1", "Approve", `{"by":"ann"}`)
	})
	waitLong(t, "the signal and its intent record on every survivor", func() bool {
		for _, p := range procs {
			if _, out, _ := as(acme, "cluster", "--server", p.url, "get", "a1"); !strings.Contains(out, `"result":"a1 by ann"`) {
				return false
			}
		}
		for _, ev := range exports() {
			intents := find(ev, func(r *audit.Record) bool {
				return strings.HasSuffix(r.Action, "/SignalCase") && r.Tenant == "acme" && r.Result == audit.ResultIntent
			})
			if len(intents) != 1 {
				return false
			}
			req := ""
			for _, g := range intents[0].Targets {
				if strings.HasPrefix(g, "audit_req=") {
					req = g
				}
			}
			if req == "" || intents[0].Subject == "" || len(find(ev, func(r *audit.Record) bool { return slices.Contains(r.Targets, req) })) != 1 {
				t.Fatalf("the signal's intent: %+v", intents[0])
			}
		}
		return true
	})
}
