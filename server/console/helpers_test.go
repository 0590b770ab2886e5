package console

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/knhk/knhk/server"
)

// approveSrc is a workflow that runs a task, then waits for a decision
// signal (or a timer), with a query over a variable.
const approveSrc = `package approve

task note(id: string) -> string exec "sh" "-c" "cat >/dev/null; echo '\"noted\"'"

workflow Approve(id: string) -> string {
  signal Decide(ok: bool, by: string)
  var seen = 0
  query seen_count -> int = seen
  let n = note(id)
  seen = seen + 1
  select {
    on signal Decide(ok: bool, by: string) -> {
      if ok {
        return n + " by " + by
      }
      fail "rejected by " + by
    }
    on timer 48h -> { fail "nobody decided" }
  }
}
`

// fixture is a Service with the console mounted, behind an HTTP server.
type fixture struct {
	svc *server.Service
	srv *httptest.Server
}

func newFixture(t *testing.T, token string) *fixture {
	return newFixtureWait(t, token, inspectWait)
}

func newFixtureWait(t *testing.T, token string, wait time.Duration) *fixture {
	t.Helper()
	svc, err := server.Open(t.TempDir(), server.Options{IndexEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	mux := server.NewMux(svc, server.MuxOptions{Token: token})
	mount(mux, svc, wait)
	f := &fixture{svc: svc, srv: httptest.NewServer(mux)}
	t.Cleanup(func() {
		f.srv.Close()
		svc.Close(t.Context())
	})
	return f
}

// call invokes a Connect method as JSON over HTTP POST, as the page does.
func (f *fixture) call(t *testing.T, method string, req, resp any) {
	t.Helper()
	b, _ := json.Marshal(req)
	r, err := http.Post(f.srv.URL+"/knhk.v1.KnhkService/"+method, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	body, _ := io.ReadAll(r.Body)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s: %s", method, r.Status, body)
	}
	if resp != nil {
		if err := json.Unmarshal(body, resp); err != nil {
			t.Fatalf("%s: %v in %s", method, err, body)
		}
	}
}

// deployAndStart deploys approveSrc and starts a case with business key
// key; it returns the program hash and the case id once the case waits
// for its signal.
func (f *fixture) deployAndStart(t *testing.T, key string) (string, string) {
	t.Helper()
	var d struct{ Hash string }
	f.call(t, "Deploy", map[string]string{"source": approveSrc, "name": "approve.knhk"}, &d)
	var s struct{ CaseID string }
	f.call(t, "StartCase", map[string]string{"workflow": "Approve", "inputJson": `"` + key + `"`, "businessKey": key}, &s)
	if s.CaseID == "" || d.Hash == "" {
		t.Fatalf("deploy %+v, start %+v", d, s)
	}
	var w struct{ Done bool }
	f.call(t, "WaitCase", map[string]any{"caseId": s.CaseID, "timeoutMs": 10000, "orWaiting": true}, &w)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		sum, err := f.svc.Get(s.CaseID)
		if err == nil && len(sum.Waiting) > 0 {
			return d.Hash, s.CaseID
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("case %s never waited for its signal", s.CaseID)
	return "", ""
}

// get fetches path and returns the status, content type and body.
func (f *fixture) get(t *testing.T, path string, hdr map[string]string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, r.Header.Get("Content-Type"), string(b)
}
