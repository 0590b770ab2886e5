package server

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// batchTasksOf returns the tasks of a CompleteAndPollTasks answer.
func batchTasksOf(t *testing.T, m map[string]any) []map[string]any {
	t.Helper()
	var out []map[string]any
	ts, _ := m["tasks"].([]any)
	for _, x := range ts {
		out = append(out, x.(map[string]any))
	}
	return out
}

// batchBody writes a CompleteAndPollTasks request; each completion is
// {id, token, resultJson} or {id, token, failure}.
func batchBody(t *testing.T, max, waitMS int, completions ...map[string]string) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"queue": "steps", "worker": "w", "completions": completions, "maxTasks": max, "waitMs": fmt.Sprint(waitMS)})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCompleteAndPollTasks drives three cases of two queue tasks each
// over Connect JSON with the batched call: a batch with valid, stale
// (lease lost), duplicate and malformed completions applies each valid
// one once and refuses the others by index, changing nothing for them;
// the cases end with the results the valid completions gave.
func TestCompleteAndPollTasks(t *testing.T) {
	s, url := serveHTTP(t, MuxOptions{})
	if _, err := s.Deploy("two.knhk", []byte(twoSrc), nil); err != nil {
		t.Fatal(err)
	}
	cases := map[string]bool{}
	for n := range 3 {
		code, m := post(t, url, "StartCase", "", fmt.Sprintf(`{"workflow":"Two","inputJson":"%d"}`, 10*n))
		if code != 200 {
			t.Fatalf("StartCase: %d %v", code, m)
		}
		cases[m["caseId"].(string)] = true
	}
	// Poll only: the first task waits, the others are taken if pending.
	var held []map[string]any
	deadline := time.Now().Add(30 * time.Second)
	for len(held) < 3 && time.Now().Before(deadline) {
		code, m := post(t, url, "CompleteAndPollTasks", "", batchBody(t, 3-len(held), 5000))
		if code != 200 {
			t.Fatalf("poll: %d %v", code, m)
		}
		held = append(held, batchTasksOf(t, m)...)
	}
	if len(held) != 3 {
		t.Fatalf("leased %d tasks, want 3", len(held))
	}
	done := func(task map[string]any, result string) map[string]string {
		return map[string]string{"id": task["id"].(string), "token": task["token"].(string), "resultJson": result}
	}
	var in [3]int
	for i, h := range held {
		var x struct{ N int }
		if err := json.Unmarshal([]byte(h["inputJson"].(string)), &x); err != nil {
			t.Fatal(err)
		}
		in[i] = x.N
	}
	stale := done(held[1], "1")
	stale["token"] = "stale"
	bad := done(held[2], "{")
	code, m := post(t, url, "CompleteAndPollTasks", "", batchBody(t, 0, 0,
		done(held[0], fmt.Sprint(in[0]+1)), // 0: applied
		stale,                              // 1: lease lost
		done(held[0], "999"),               // 2: the same task again
		bad,                                // 3: not JSON
		done(held[2], fmt.Sprint(in[2]+1)), // 4: applied
		map[string]string{"id": "nope", "token": "x", "resultJson": "1"}, // 5: unknown
	))
	if code != 200 || m["tasks"] != nil {
		t.Fatalf("batch: %d %v", code, m)
	}
	want := map[float64]string{1: "failed_precondition", 2: "failed_precondition", 3: "invalid_argument", 5: "not_found"}
	errs, _ := m["completionErrors"].([]any)
	if len(errs) != len(want) {
		t.Fatalf("completion errors %v, want indexes %v", errs, want)
	}
	for _, e := range errs {
		e := e.(map[string]any)
		idx, _ := e["index"].(float64) // index 0 is omitted in JSON
		if want[idx] != e["code"] || e["id"] == "" || e["message"] == "" {
			t.Errorf("completion error %v, want code %q", e, want[idx])
		}
	}
	if e := errs[1].(map[string]any); !strings.Contains(e["message"].(string), "twice") || e["field"] != "completions[2].id" {
		t.Errorf("duplicate: %v", e)
	}
	if e := errs[3].(map[string]any); e["field"] != "completions[5].id" {
		t.Errorf("unknown task: %v", e)
	}
	// The refused task is still held: its holder completes it, together
	// with asking for the three second tasks.
	var second []map[string]any
	pending := []map[string]string{done(held[1], fmt.Sprint(in[1]+1))}
	for len(second) < 3 && time.Now().Before(deadline) {
		code, m = post(t, url, "CompleteAndPollTasks", "", batchBody(t, 3-len(second), 5000, pending...))
		if code != 200 || m["completionErrors"] != nil {
			t.Fatalf("batch: %d %v", code, m)
		}
		pending = nil
		second = append(second, batchTasksOf(t, m)...)
	}
	if len(second) != 3 {
		t.Fatalf("leased %d second tasks, want 3", len(second))
	}
	var finals []map[string]string
	for _, h := range second {
		if !cases[h["caseId"].(string)] || h["inputJson"] == held[0]["inputJson"] && h["caseId"] == held[0]["caseId"] {
			t.Fatalf("second task %v", h)
		}
		var x struct{ N int }
		json.Unmarshal([]byte(h["inputJson"].(string)), &x)
		finals = append(finals, done(h, fmt.Sprint(100*x.N)))
	}
	// The first task of case 0 again, now finished: refused, not
	// applied twice.
	finals = append(finals, done(held[0], "12345"))
	code, m = post(t, url, "CompleteAndPollTasks", "", batchBody(t, 1, 0, finals...))
	errs, _ = m["completionErrors"].([]any)
	if code != 200 || len(errs) != 1 || errs[0].(map[string]any)["index"] != float64(3) || m["tasks"] != nil {
		t.Fatalf("final batch: %d %v", code, m)
	}
	for id := range cases {
		sum := wait(t, s, id)
		if sum.Status != "completed" {
			t.Fatalf("case %s: %+v", id, sum)
		}
		var n int
		json.Unmarshal([]byte(sum.Result), &n)
		// step returns what the test sent: the second got a+1 = n+2.
		if n%100 != 0 || (n/100-2)%10 != 0 {
			t.Errorf("case %s result %s, want 100*(n+2)", id, sum.Result)
		}
	}
}

// TestCompleteAndPollTasksBadCalls: a call that is wrong as a whole is
// invalid_argument naming the field, and applies none of its
// completions.
func TestCompleteAndPollTasksBadCalls(t *testing.T) {
	s, url := serveHTTP(t, MuxOptions{})
	if _, err := s.Deploy("two.knhk", []byte(twoSrc), nil); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{
		`{"maxTasks":1}`,
		`{"queue":"steps","maxTasks":257}`,
		`{"queue":"steps","maxTasks":-1}`,
		`{"queue":"steps","maxTasks":1,"waitMs":"-5"}`,
		`{"queue":"steps","maxTasks":1,"waitMs":"60001"}`,
		`{"queue":"steps"}`,
		`{"queue":"` + strings.Repeat("q", 129) + `","maxTasks":1}`,
	} {
		code, m := post(t, url, "CompleteAndPollTasks", "", body)
		if code != 400 || m["code"] != "invalid_argument" {
			t.Errorf("%s: %d %v, want invalid_argument", body, code, m)
		}
	}
	for _, c := range []struct {
		q     string
		done  []TaskOutcome
		max   int
		wait  time.Duration
		field string
	}{
		{"", nil, 1, 0, "queue"},
		{"steps", nil, 300, 0, "max_tasks"},
		{"steps", nil, 1, -time.Second, "wait_ms"},
		{"steps", make([]TaskOutcome, MaxBatchCompletions+1), 0, 0, "completions"},
	} {
		if _, _, err := s.CompleteAndPollTasks(t.Context(), c.q, "w", c.done, c.max, c.wait); CodeOf(err) != CodeInvalidArgument || err.(*Error).Field != c.field {
			t.Errorf("%+v: %v, want field %s", c, err, c.field)
		}
	}
}
