package server

import (
	"strings"
	"testing"
)

// TestStartWait: StartCase with waitMs, as curl sends it, answers with
// the case's result when it ends within the wait; a case still running
// when the wait ends is started all the same (its id, done false) and
// WaitCase goes on from there; a negative waitMs is refused naming the
// field, and starts nothing.
func TestStartWait(t *testing.T) {
	s, url := serveHTTP(t, MuxOptions{})
	deploy(t, s)
	code, m := post(t, url, "StartCase", "", `{"workflow":"Inc","inputJson":"41","waitMs":"5000"}`)
	c, _ := m["case"].(map[string]any)
	if code != 200 || m["done"] != true || c["resultJson"] != "42" || c["status"] != "completed" || c["caseId"] != m["caseId"] {
		t.Fatalf("StartCase with waitMs: %d %v", code, m)
	}
	// Without waitMs: the start alone, as before.
	code, m = post(t, url, "StartCase", "", `{"workflow":"Inc","inputJson":"1"}`)
	if code != 200 || m["caseId"] == nil || m["case"] != nil || m["done"] != nil {
		t.Fatalf("StartCase without waitMs: %d %v", code, m)
	}
	// Hold waits for a signal: the wait ends first.
	code, m = post(t, url, "StartCase", "", `{"workflow":"Hold","inputJson":"\"h-1\"","requestId":"r-hold","waitMs":"50"}`)
	c, _ = m["case"].(map[string]any)
	id, _ := m["caseId"].(string)
	if code != 200 || id == "" || m["done"] == true || c["status"] != "running" {
		t.Fatalf("StartCase of a case that waits: %d %v", code, m)
	}
	// A retry with the request id waits on the same case.
	code, m = post(t, url, "StartCase", "", `{"workflow":"Hold","inputJson":"\"h-1\"","requestId":"r-hold","waitMs":"20"}`)
	if code != 200 || m["caseId"] != id || m["existing"] != true || m["done"] == true {
		t.Fatalf("retried StartCase: %d %v, want case %s", code, m, id)
	}
	if code, m = post(t, url, "SignalCase", "", `{"caseId":"`+id+`","name":"Approve","payloadJson":"\"ann\""}`); code != 200 {
		t.Fatalf("SignalCase: %d %v", code, m)
	}
	code, m = post(t, url, "WaitCase", "", `{"caseId":"`+id+`","timeoutMs":"5000"}`)
	if c, _ = m["case"].(map[string]any); code != 200 || m["done"] != true || c["resultJson"] != `"h-1 by ann"` {
		t.Fatalf("WaitCase after the signal: %d %v", code, m)
	}
	before, _, _ := s.List(ListRequest{})
	code, m = post(t, url, "StartCase", "", `{"workflow":"Inc","inputJson":"1","waitMs":"-1"}`)
	if msg, _ := m["message"].(string); code != 400 || m["code"] != "invalid_argument" || !strings.Contains(msg, "wait_ms is negative (-1)") {
		t.Fatalf("negative waitMs: %d %v", code, m)
	}
	if after, _, _ := s.List(ListRequest{}); len(after) != len(before) {
		t.Fatalf("a refused start started a case: %d cases, %d before", len(after), len(before))
	}
}
