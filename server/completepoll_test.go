package server

import "testing"

const twoSrc = `package two

task step(n: int) -> int queue "steps"

workflow Two(n: int) -> int {
  let a = step(n)
  let b = step(a + 1)
  return b
}
`

// TestCompleteAndPoll drives a case of two queue tasks over Connect JSON
// as a worker in its steady state does: one poll, then one
// CompleteAndPollTask that completes the first task and brings the
// second. A refused completion (stale token) is the call's error and
// leases nothing; a call without its halves names the missing field.
func TestCompleteAndPoll(t *testing.T) {
	s, url := serveHTTP(t, MuxOptions{})
	if _, err := s.Deploy("two.knhk", []byte(twoSrc), nil); err != nil {
		t.Fatal(err)
	}
	code, m := post(t, url, "StartCase", "", `{"workflow":"Two","inputJson":"1"}`)
	if code != 200 {
		t.Fatalf("StartCase: %d %v", code, m)
	}
	id := m["caseId"].(string)
	code, m = post(t, url, "PollTask", "", `{"queue":"steps","worker":"w","timeoutMs":"5000"}`)
	first, _ := m["task"].(map[string]any)
	if code != 200 || first == nil || first["inputJson"] != `{"n":1}` {
		t.Fatalf("PollTask: %d %v", code, m)
	}
	for _, c := range []struct{ body, msg string }{
		{`{"poll":{"queue":"steps"}}`, "name the task to complete"},
		{`{"complete":{"id":"x","token":"y","resultJson":"1"}}`, "name the queue to poll"},
		{`{"complete":{"id":"x","token":"y","resultJson":"1"},"poll":{}}`, "name the queue to poll"},
		{`{"complete":{"id":"x","token":"y","resultJson":"1"},"poll":{"queue":"steps","timeoutMs":"-1"}}`, "timeout_ms is negative (-1)"},
	} {
		code, m = post(t, url, "CompleteAndPollTask", "", c.body)
		if code != 400 || m["code"] != "invalid_argument" || m["message"] != c.msg {
			t.Fatalf("%s: %d %v, want invalid_argument: %s", c.body, code, m, c.msg)
		}
	}
	if _, _, err := s.CompleteAndPoll(t.Context(), "x", "y", []byte("1"), "", "w", 0); CodeOf(err) != CodeInvalidArgument || err.(*Error).Field != "poll.queue" {
		t.Fatalf("no queue: %v", err)
	}
	stale := `{"complete":{"id":"` + first["id"].(string) + `","token":"stale","resultJson":"5"},"poll":{"queue":"steps","timeoutMs":"5000"}}`
	code, m = post(t, url, "CompleteAndPollTask", "", stale)
	if code == 200 || m["code"] != "failed_precondition" {
		t.Fatalf("a stale token: %d %v", code, m)
	}
	body := `{"complete":{"id":"` + first["id"].(string) + `","token":"` + first["token"].(string) + `","resultJson":"5"},"poll":{"queue":"steps","worker":"w","timeoutMs":"5000"}}`
	code, m = post(t, url, "CompleteAndPollTask", "", body)
	second, _ := m["task"].(map[string]any)
	if code != 200 || second == nil || second["inputJson"] != `{"n":6}` || second["caseId"] != id {
		t.Fatalf("CompleteAndPollTask: %d %v", code, m)
	}
	body = `{"complete":{"id":"` + second["id"].(string) + `","token":"` + second["token"].(string) + `","resultJson":"70"},"poll":{"queue":"steps","timeoutMs":"10"}}`
	code, m = post(t, url, "CompleteAndPollTask", "", body)
	if code != 200 || m["task"] != nil {
		t.Fatalf("the last CompleteAndPollTask: %d %v, want no task", code, m)
	}
	if sum := wait(t, s, id); sum.Status != "completed" || sum.Result != "70" {
		t.Fatalf("Two: %+v", sum)
	}
}
