package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func serveHTTP(t *testing.T, o MuxOptions) (*Service, string) {
	t.Helper()
	s := open(t, t.TempDir())
	ts := httptest.NewServer(NewMux(s, o))
	t.Cleanup(func() { ts.Close(); closeSvc(t, s) })
	return s, ts.URL
}

// post sends body as a Connect JSON call of method, as curl would.
func post(t *testing.T, url, method, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("POST", url+"/knhk.v1.KnhkService/"+method, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: not JSON: %s", method, b)
	}
	return resp.StatusCode, m
}

// TestJSON drives a case with plain JSON POSTs: what curl does.
func TestJSON(t *testing.T) {
	s, url := serveHTTP(t, MuxOptions{})
	deploy(t, s)
	code, m := post(t, url, "StartCase", "", `{"workflow":"Inc","inputJson":"41","requestId":"req-1"}`)
	if code != 200 || m["caseId"] == nil {
		t.Fatalf("StartCase: %d %v", code, m)
	}
	id := m["caseId"].(string)
	code, m = post(t, url, "WaitCase", "", `{"caseId":"`+id+`","timeoutMs":"5000"}`)
	c, _ := m["case"].(map[string]any)
	if code != 200 || m["done"] != true || c["resultJson"] != "42" {
		t.Fatalf("WaitCase: %d %v", code, m)
	}
	code, m = post(t, url, "StartCase", "", `{"workflow":"Inc","inputJson":"41","requestId":"req-1"}`)
	if code != 200 || m["caseId"] != id || m["existing"] != true {
		t.Fatalf("retried StartCase: %d %v, want case %s", code, m, id)
	}
	// Bad input: the field and the message of knhk run.
	code, m = post(t, url, "StartCase", "", `{"workflow":"Inc","inputJson":"\"x\""}`)
	if code != 400 || m["code"] != "invalid_argument" || !strings.HasPrefix(m["message"].(string), "bad input for Inc: ") {
		t.Fatalf("bad input: %d %v", code, m)
	}
	// A malformed request.
	code, m = post(t, url, "StartCase", "", `{"workflow":`)
	if code != 400 || m["code"] != "invalid_argument" {
		t.Fatalf("malformed request: %d %v", code, m)
	}
	code, m = post(t, url, "GetCase", "", `{"caseId":"c-nope"}`)
	if code != 404 || m["code"] != "not_found" || m["message"] != "no case c-nope" {
		t.Fatalf("unknown case: %d %v", code, m)
	}
	if list, _, _ := s.List(ListRequest{}); len(list) != 1 {
		t.Fatalf("cases after the bad calls: %+v", list)
	}
}

func TestTokenAndBodyLimit(t *testing.T) {
	s, url := serveHTTP(t, MuxOptions{Token: "s3cret", MaxBody: 4096})
	deploy(t, s)
	for _, tok := range []string{"", "s3cre", "s3cret!", "wrong!"} {
		code, m := post(t, url, "ListCases", tok, `{}`)
		if code != 401 || m["code"] != "unauthenticated" {
			t.Fatalf("token %q: %d %v", tok, code, m)
		}
	}
	if code, m := post(t, url, "ListCases", "s3cret", `{}`); code != 200 {
		t.Fatalf("right token: %d %v", code, m)
	}
	big := `{"workflow":"Inc","inputJson":"` + strings.Repeat("1", 8000) + `"}`
	code, m := post(t, url, "StartCase", "s3cret", big)
	if code == 200 || m["code"] != "resource_exhausted" || !strings.Contains(m["message"].(string), "4096") {
		t.Fatalf("oversize body: %d %v", code, m)
	}
	if list, _, _ := s.List(ListRequest{}); len(list) != 0 {
		t.Fatalf("the refused calls started cases: %+v", list)
	}
}

// TestDrain: Close makes new calls fail as unavailable and returns a
// long poll at once.
func TestDrain(t *testing.T) {
	s := open(t, t.TempDir())
	deploy(t, s)
	id := start(t, s, "Hold", `"o"`)
	done := make(chan error, 1)
	go func() {
		_, ended, err := s.Wait(context.Background(), id, false)
		if ended {
			err = io.ErrUnexpectedEOF
		}
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	closeSvc(t, s)
	if err := <-done; err != nil {
		t.Fatalf("the long poll: %v", err)
	}
	if _, err := s.Get(id); CodeOf(err) != CodeUnavailable {
		t.Fatalf("a call after Close: %v", err)
	}
}

func TestRunning(t *testing.T) {
	dir := t.TempDir()
	if Running(dir) {
		t.Fatal("Running before Open")
	}
	s := open(t, dir)
	if !Running(dir) {
		t.Fatal("not Running while open")
	}
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "another knhk serve") {
		t.Fatalf("a second Open: %v", err)
	}
	closeSvc(t, s)
	if Running(dir) {
		t.Fatal("Running after Close")
	}
}
