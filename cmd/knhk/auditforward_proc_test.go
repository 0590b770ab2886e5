// This file checks, on the processes of TestClusterAuditProcesses and
// TestBFTAuditProcesses, that
// a client which sets the forwarding headers itself (Knhk-Forwarded-By,
// Knhk-Forwarded-For) does not choose the address its audit record says
// it called from: no node vouched for the claim, so every node records
// the connection's own address and notes the claim.

package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/server"
)

// forgedClaim is the client address the forging client claims.
const forgedClaim = "203.0.113.9:7"

// forgeForwarded starts a case of tok's tenant through every node of
// procs with forged forwarding headers, until the leader of the
// tenant's group (or the driver; one of them) has taken one.
func forgeForwarded(t *testing.T, procs []*serveProc, tok string) {
	t.Helper()
	hdr := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + tok},
		server.ForwardedByHeader: {"n2"}, server.ForwardedForHeader: {forgedClaim}}
	waitLong(t, "a forged start taken by the leader or driver", func() bool {
		ok := false
		for _, p := range procs {
			code, _ := postCall(t, p.url+"/knhk.v1.KnhkService/StartCase", hdr, `{"workflow":"Hold","inputJson":"\"forged\""}`)
			ok = ok || code == http.StatusOK
		}
		return ok
	})
}

// checkForged fails t unless ev holds a forged start taken, and every
// forged start's record is from its connection, noting the claim; the
// other calls, some forwarded by one node to another, were all vouched
// for.
func checkForged(t *testing.T, ev *audit.Evidence) {
	t.Helper()
	taken := false
	for _, e := range ev.Records {
		r := e.Record
		if r != nil && !strings.HasSuffix(r.Action, "/StartCase") && strings.Contains(r.Detail, "unvouched") {
			t.Fatalf("a call forwarded by a node is not vouched for: %+v", r)
		}
		if r == nil || !strings.HasSuffix(r.Action, "/StartCase") {
			continue
		}
		if r.Remote == forgedClaim || !strings.HasPrefix(r.Remote, "127.0.0.1:") || !strings.Contains(r.Detail, `unvouched forwarding claim by "n2" for "`+forgedClaim+`"`) {
			t.Fatalf("a forged start's record: %+v", r)
		}
		taken = taken || r.Result == audit.ResultOK
	}
	if !taken {
		t.Fatal("no record of the forged start the leader took")
	}
}
