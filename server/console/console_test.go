package console

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestCaseEndpoint checks the case a page shows: input, signals with
// their payloads, queries, and a history in which the bookkeeping steps
// are marked and the rest named as in the source.
func TestCaseEndpoint(t *testing.T) {
	f := newFixture(t, "")
	hash, id := f.deployAndStart(t, "o-1")
	code, ct, body := f.get(t, "/console/api/case?id="+id, nil)
	if code != http.StatusOK || !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%d %s: %s", code, ct, body)
	}
	var cv struct {
		Summary struct{ Status string }
		Program string
		Input   map[string]string
		Signals []struct {
			Name   string
			Params []struct{ Name, Type string }
		}
		Queries []string
		History []struct {
			Kind, Step, User string
			Bookkeeping      bool
		}
	}
	if err := json.Unmarshal([]byte(body), &cv); err != nil {
		t.Fatal(err)
	}
	if cv.Program != hash || cv.Input["id"] != "o-1" || cv.Summary.Status != "running" {
		t.Errorf("program %s input %v status %s", cv.Program, cv.Input, cv.Summary.Status)
	}
	if len(cv.Signals) != 1 || cv.Signals[0].Name != "Decide" || len(cv.Signals[0].Params) != 2 || cv.Signals[0].Params[1].Type != "string" {
		t.Errorf("signals %+v", cv.Signals)
	}
	if len(cv.Queries) != 1 || cv.Queries[0] != "seen_count" {
		t.Errorf("queries %v", cv.Queries)
	}
	var shown []string
	hidden := 0
	for _, h := range cv.History {
		if h.Bookkeeping {
			hidden++
			continue
		}
		name := h.Step
		if h.User != "" {
			name = h.User
		}
		shown = append(shown, h.Kind+" "+name)
	}
	want := "start Approve|fire note|done note|arm timer 48h"
	if got := strings.Join(shown, "|"); got != want {
		t.Errorf("user-level history %q, want %q", got, want)
	}
	if hidden == 0 {
		t.Error("no event marked as bookkeeping (the assignments of seen are)")
	}
}

// TestGraphMarking checks the SVG of a waiting case, laid out by dot and
// by the built-in layout: the task that ran is done, the signal wait and
// the timer are pending, and the end is not reached.
func TestGraphMarking(t *testing.T) {
	f := newFixture(t, "")
	_, id := f.deployAndStart(t, "o-2")
	for _, layout := range []string{"dot", "built-in"} {
		t.Run(layout, func(t *testing.T) {
			if layout == "built-in" {
				t.Setenv("PATH", t.TempDir())
			} else if !haveDot() {
				t.Skip("Graphviz (dot) is not installed")
			}
			code, ct, svg := f.get(t, "/console/api/graph?case="+id, nil)
			if code != http.StatusOK || ct != "image/svg+xml" || !strings.Contains(svg, "<svg") {
				t.Fatalf("%d %s: %.300s", code, ct, svg)
			}
			classes := nodeClasses(svg)
			for label, want := range map[string]string{"note": "node done", "wait Decide": "node pending", "timer 48h": "node pending", "if": "node"} {
				got, ok := classes[label]
				if !ok {
					t.Errorf("no node labelled %q in %v", label, classes)
				} else if got != want {
					t.Errorf("node %q has class %q, want %q", label, got, want)
				}
			}
			if strings.Contains(svg, "let_seen") || strings.Contains(svg, "set_seen") {
				t.Error("the drawing shows bookkeeping steps")
			}
		})
	}
}

// nodeClasses maps the first line of each node's label to its class, in
// either layout's SVG.
func nodeClasses(svg string) map[string]string {
	out := map[string]string{}
	node := regexp.MustCompile(`(?s)<g id="n\d+_v\d+" class="([^"]*)">(.*?)</g>`)
	text := regexp.MustCompile(`<text[^>]*>([^<]*)</text>`)
	for _, m := range node.FindAllStringSubmatch(svg, -1) {
		if t := text.FindStringSubmatch(m[2]); t != nil {
			label := strings.SplitN(t[1], " · ", 2)[0]
			out[label] = m[1]
		}
	}
	return out
}

// TestProgramEndpoint checks a deployed program's source and workflow
// drawing, and the errors of unknown or missing arguments.
func TestProgramEndpoint(t *testing.T) {
	f := newFixture(t, "")
	hash, _ := f.deployAndStart(t, "o-3")
	code, _, body := f.get(t, "/console/api/program?hash="+hash, nil)
	if code != http.StatusOK || !strings.Contains(body, `"name": "approve.knhk"`) || !strings.Contains(body, "workflow Approve(id: string)") {
		t.Errorf("%d: %.400s", code, body)
	}
	code, _, body = f.get(t, "/console/api/graph?program="+hash+"&workflow=Approve", nil)
	if code != http.StatusOK || !strings.Contains(body, `id="n0_v`) {
		t.Errorf("%d: %.300s", code, body)
	}
	for path, want := range map[string]string{
		"/console/api/case":                                   `{"code":"invalid_argument","message":"give the case: ?id=CASE"}`,
		"/console/api/case?id=c-0000000000000000":             `"code":"not_found"`,
		"/console/api/program?hash=ffff":                      `"message":"no deployed program ffff"`,
		"/console/api/graph":                                  `"message":"give ?case=CASE or ?program=HASH\u0026workflow=W"`,
		"/console/api/graph?program=" + hash + "&workflow=No": `has no workflow \"No\"`,
	} {
		code, _, body := f.get(t, path, nil)
		if code < 400 || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d %s, want an error with %s", path, code, body, want)
		}
	}
}

// TestToken checks that with a token the console's endpoints need it,
// like the API, while the pages (which hold no data) do not.
func TestToken(t *testing.T) {
	f := newFixture(t, "s3cret")
	if code, _, body := f.get(t, "/", nil); code != http.StatusOK || !strings.Contains(body, "<title>knhk console</title>") {
		t.Errorf("GET /: %d %.200s", code, body)
	}
	if code, ct, _ := f.get(t, "/app.js", nil); code != http.StatusOK || !strings.Contains(ct, "javascript") {
		t.Errorf("GET /app.js: %d %s", code, ct)
	}
	if code, _, _ := f.get(t, "/console/api/case?id=x", nil); code != http.StatusUnauthorized {
		t.Errorf("without the token: %d, want 401", code)
	}
	if code, _, _ := f.get(t, "/console/api/case?id=c-0000000000000000", map[string]string{"Authorization": "Bearer s3cret"}); code != http.StatusNotFound {
		t.Errorf("with the token: %d, want 404 (past the token check)", code)
	}
}

// TestGraphRunning checks that a call in progress is highlighted as
// running, and the step after it not yet.
func TestGraphRunning(t *testing.T) {
	f := newFixture(t, "")
	dir := t.TempDir()
	gate := filepath.Join(dir, "go")
	src := `package slow

task wait_for_gate() exec "sh" "-c" "cat >/dev/null; while [ ! -e ` + gate + ` ]; do sleep 0.02; done"
task after() exec "sh" "-c" "cat >/dev/null"

workflow Slow() {
  signal Go
  select {
    on signal Go -> {}
  }
  wait_for_gate()
  after()
}
`
	f.call(t, "Deploy", map[string]string{"source": src, "name": "slow.knhk"}, nil)
	var s struct{ CaseID string }
	f.call(t, "StartCase", map[string]string{"workflow": "Slow", "inputJson": "{}"}, &s)
	f.call(t, "WaitCase", map[string]any{"caseId": s.CaseID, "timeoutMs": 10000, "orWaiting": true}, nil)
	defer os.WriteFile(gate, nil, 0o644) // let the task end
	signalled := make(chan struct{})
	go func() {
		defer close(signalled)
		f.call(t, "SignalCase", map[string]string{"caseId": s.CaseID, "name": "Go"}, nil)
	}()
	var classes map[string]string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		_, _, svg := f.get(t, "/console/api/graph?case="+s.CaseID, nil)
		if classes = nodeClasses(svg); classes["wait_for_gate"] == "node running" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if classes["wait_for_gate"] != "node running" || classes["after"] != "node" {
		t.Fatalf("while the first task runs: %v", classes)
	}
	os.WriteFile(gate, nil, 0o644)
	<-signalled
	var w struct{ Done bool }
	f.call(t, "WaitCase", map[string]any{"caseId": s.CaseID, "timeoutMs": 10000}, &w)
	_, _, svg := f.get(t, "/console/api/graph?case="+s.CaseID, nil)
	if c := nodeClasses(svg); !w.Done || c["wait_for_gate"] != "node done" || c["after"] != "node done" {
		t.Errorf("after the case completed (done %v): %v", w.Done, c)
	}
}

// TestBusyStart checks that the page of a case whose first step is a
// long call is answered (with the server's error while the case is not
// ready) instead of hanging until the call returns.
func TestBusyStart(t *testing.T) {
	f := newFixtureWait(t, "", 300*time.Millisecond)
	gate := filepath.Join(t.TempDir(), "go")
	src := `package busy

task hold() exec "sh" "-c" "cat >/dev/null; while [ ! -e ` + gate + ` ]; do sleep 0.02; done"

workflow Busy() {
  hold()
}
`
	f.call(t, "Deploy", map[string]string{"source": src, "name": "busy.knhk"}, nil)
	var s struct{ CaseID string }
	f.call(t, "StartCase", map[string]string{"workflow": "Busy", "inputJson": "{}"}, &s)
	defer os.WriteFile(gate, nil, 0o644)
	for _, path := range []string{"/console/api/case?id=", "/console/api/graph?case="} {
		start := time.Now()
		code, _, body := f.get(t, path+s.CaseID, nil)
		if took := time.Since(start); code != http.StatusOK && code != http.StatusServiceUnavailable {
			t.Errorf("GET %s: %d %s", path, code, body)
		} else if took > 5*time.Second {
			t.Errorf("GET %s took %v", path, took)
		}
	}
}
