// This file tests a client's retry of the very same request, nonce and
// all, across a leader failover of knhk serve --node --tenants: it gets
// the first answer and the case starts once, while the nonce on another
// body or request id is refused as a replay (server/tenant's
// replaybind.go on each node, runtime/cluster's nonce.go in the log).

package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// groupLeader waits until every live node of procs names the same
// leader of tenant's group, a live one, and returns it.
func groupLeader(t *testing.T, procs map[string]*serveProc, tenant string) string {
	t.Helper()
	var name string
	waitLong(t, "one leader of "+tenant+"'s group", func() bool {
		name = ""
		for _, p := range procs {
			st, ok := groupStatus(t, p, tenant)
			if !ok || st.Leader == "" || procs[st.Leader] == nil || name != "" && st.Leader != name {
				return false
			}
			name = st.Leader
		}
		return true
	})
	return name
}

func TestClusterRetrySameNonceProcesses(t *testing.T) {
	dir := tenantClusterDir(t)
	acme := mustKnhkIn(t, dir)("tenant", "create", "--data", "d-n1", "acme")
	procs, stop := tenantNodes(t, dir, 3, "acme")
	defer stop()
	hdr := http.Header{}
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Authorization", "Bearer "+acme)
	hdr.Set("Knhk-Nonce", "cmV0cmllZC1hZnRlci1mYWlsb3Zlcg")
	hdr.Set("Knhk-Request-Time", strconv.FormatInt(time.Now().UnixMilli(), 10))
	body := `{"workflow":"Hold","inputJson":"\"r1\"","requestId":"order-1"}`
	send := func(p *serveProc, body string) (int, string) {
		t.Helper()
		return postCall(t, p.url+"/knhk.v1.KnhkService/StartCase", hdr, body)
	}
	lead := groupLeader(t, procs, "acme")
	var via string // a follower: it and the leader both see the call
	for n := range procs {
		if n != lead {
			via = n
			break
		}
	}
	code, first := send(procs[via], body)
	if code != http.StatusOK || !strings.Contains(first, `"caseId"`) {
		t.Fatalf("the call through %s: %d %s", via, code, first)
	}
	caseID := first[strings.Index(first, `"caseId"`):]
	caseID = caseID[:strings.IndexAny(caseID, ",}")]
	// The client timed out; the leader goes; the client sends the same
	// request again, to the node it used and to the other survivor.
	procs[lead].cmd.Process.Kill()
	procs[lead].cmd.Wait()
	delete(procs, lead)
	groupLeader(t, procs, "acme")
	for n, p := range procs {
		waitLong(t, "the retry through "+n+" answered", func() bool {
			code, out := send(p, body)
			if code == http.StatusServiceUnavailable {
				return false // the new leader is not ready yet
			}
			if code != http.StatusOK || !strings.Contains(out, caseID) {
				t.Fatalf("the same request again through %s after the failover: %d %s, want the first answer %s", n, code, out, caseID)
			}
			return true
		})
	}
	// The nonce with another purpose is refused wherever it lands.
	for what, b := range map[string]string{
		"another body":       strings.Replace(body, `\"r1\"`, `\"r2\"`, 1),
		"another request id": strings.Replace(body, "order-1", "order-2", 1),
	} {
		for n, p := range procs {
			waitLong(t, what+" through "+n+" refused", func() bool {
				code, out := send(p, b)
				if code == http.StatusServiceUnavailable {
					return false
				}
				if code != http.StatusUnauthorized || !strings.Contains(out, "replayed request") {
					t.Fatalf("the nonce with %s through %s: %d %s", what, n, code, out)
				}
				return true
			})
		}
	}
	for n, p := range procs {
		waitLong(t, "one case of acme on "+n, func() bool {
			_, b := p.get(t, usagePath, acme)
			return strings.Contains(b, `"cases":1,`)
		})
	}
}
