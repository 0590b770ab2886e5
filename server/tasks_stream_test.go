package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
)

// serveH2C serves s's API as knhk serve does: HTTP/1.1 and HTTP/2
// cleartext; the client speaks h2c.
func serveH2C(t *testing.T) (*Service, knhkv1connect.KnhkServiceClient, *httptest.Server) {
	t.Helper()
	s := open(t, t.TempDir())
	ts := httptest.NewUnstartedServer(NewMux(s, MuxOptions{MaxBody: 1 << 10}))
	ts.Config.Protocols = new(http.Protocols)
	ts.Config.Protocols.SetHTTP1(true)
	ts.Config.Protocols.SetUnencryptedHTTP2(true)
	ts.Start()
	t.Cleanup(func() { ts.Close(); closeSvc(t, s) })
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	t.Cleanup(tr.CloseIdleConnections)
	return s, knhkv1connect.NewKnhkServiceClient(&http.Client{Transport: tr}, ts.URL), ts
}

// recvTasks receives until n tasks came (acks are returned too).
func recvTasks(t *testing.T, st *connect.BidiStreamForClient[knhkv1.WorkTasksRequest, knhkv1.WorkTasksResponse], n int) (tasks []*knhkv1.WorkerTask, acks []*knhkv1.OutcomeAck) {
	t.Helper()
	for len(tasks) < n {
		m, err := st.Receive()
		if err != nil {
			t.Fatalf("receive: %v (after %d of %d tasks)", err, len(tasks), n)
		}
		tasks = append(tasks, m.GetTasks()...)
		acks = append(acks, m.GetAcks()...)
	}
	if len(tasks) > n {
		t.Fatalf("pushed %d tasks for %d credits", len(tasks), n)
	}
	return tasks, acks
}

// TestWorkTasks drives three cases of two queue tasks each over one
// WorkTasks stream: the server pushes no more tasks than credited, an
// outcome with a stale token is refused in its ack and changes nothing,
// a bad result is refused with its field, the valid outcomes are
// applied once each and acknowledged, and the cases end with the
// results they gave. Each message is far below MaxBody, and the stream
// carries more than MaxBody in all: the body limit is per message.
func TestWorkTasks(t *testing.T) {
	s, api, _ := serveH2C(t)
	if _, err := s.Deploy("two.knhk", []byte(twoSrc), nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ids := map[string]int{}
	for n := range 3 {
		r, err := api.StartCase(ctx, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Two", InputJson: fmt.Sprint(10 * n)}))
		if err != nil {
			t.Fatal(err)
		}
		ids[r.Msg.CaseId] = 10 * n
	}
	st := api.WorkTasks(ctx)
	defer st.CloseResponse()
	if err := st.Send(&knhkv1.WorkTasksRequest{Queue: "steps", Worker: "w", Credits: 2}); err != nil {
		t.Fatal(err)
	}
	if m, err := st.Receive(); err != nil || len(m.GetTasks())+len(m.GetAcks()) != 0 {
		t.Fatalf("first answer: %v %v, want an empty one", m, err)
	}
	held, _ := recvTasks(t, st, 2)
	input := func(w *knhkv1.WorkerTask) int {
		var x struct{ N int }
		if err := json.Unmarshal([]byte(w.GetInputJson()), &x); err != nil {
			t.Fatal(err)
		}
		return x.N
	}
	result := func(w *knhkv1.WorkerTask, v string) *knhkv1.TaskOutcome {
		return &knhkv1.TaskOutcome{Id: w.GetId(), Token: w.GetToken(), Outcome: &knhkv1.TaskOutcome_ResultJson{ResultJson: v}}
	}
	// Refusals first: they change nothing and grant no task.
	stale := result(held[0], "1")
	stale.Token = "stale"
	if err := st.Send(&knhkv1.WorkTasksRequest{Outcomes: []*knhkv1.TaskOutcome{stale, result(held[1], "{")}}); err != nil {
		t.Fatal(err)
	}
	m, err := st.Receive()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.GetTasks()) != 0 || len(m.GetAcks()) != 2 {
		t.Fatalf("answer to the refused outcomes: %v", m)
	}
	if a := m.GetAcks()[0]; a.GetId() != held[0].GetId() || a.GetCode() != "failed_precondition" {
		t.Errorf("stale token: %v, want failed_precondition", a)
	}
	if a := m.GetAcks()[1]; a.GetId() != held[1].GetId() || a.GetCode() != "invalid_argument" || a.GetField() != "outcomes[1].result_json" {
		t.Errorf("bad result: %v, want invalid_argument on outcomes[1].result_json", a)
	}
	// Then the tasks run to the end, each outcome granting one credit.
	step := map[string]int{} // case -> tasks completed
	outstanding := held
	for len(outstanding) > 0 {
		var outs []*knhkv1.TaskOutcome
		for _, w := range outstanding {
			outs = append(outs, result(w, fmt.Sprint(input(w)+1)))
			step[w.GetCaseId()]++
		}
		if err := st.Send(&knhkv1.WorkTasksRequest{Outcomes: outs, Credits: int32(len(outs))}); err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, n := range step {
			if n < 2 {
				want++
			}
		}
		want += 3 - len(step) // cases not yet seen
		want = min(want, 2)
		var acks []*knhkv1.OutcomeAck
		outstanding = nil
		deadline := time.Now().Add(30 * time.Second)
		for (len(acks) < len(outs) || len(outstanding) < want) && time.Now().Before(deadline) {
			m, err := st.Receive()
			if err != nil {
				t.Fatal(err)
			}
			acks = append(acks, m.GetAcks()...)
			outstanding = append(outstanding, m.GetTasks()...)
		}
		for _, a := range acks {
			if a.GetCode() != "" {
				t.Fatalf("outcome refused: %v", a)
			}
		}
		if len(outstanding) > 2 {
			t.Fatalf("%d tasks held for 2 credits", len(outstanding))
		}
	}
	if err := st.CloseRequest(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Receive(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the worker's close: %v, want the end of the stream", err)
	}
	for id, n := range ids {
		w, err := api.WaitCase(ctx, connect.NewRequest(&knhkv1.WaitCaseRequest{CaseId: id, TimeoutMs: 30000}))
		if err != nil {
			t.Fatal(err)
		}
		if c := w.Msg.GetCase(); c.GetStatus() != "completed" || c.GetResultJson() != fmt.Sprint(n+3) {
			t.Errorf("case %s: %s %s, want completed %d", id, c.GetStatus(), c.GetResultJson(), n+3)
		}
	}
}

// TestWorkTasksBadStreams: a stream that names no queue, grants too
// many credits or switches queues ends with invalid_argument naming
// the field; a stream over HTTP/1.1 is refused, so that a worker goes
// back to the unary calls; a drain ends an open stream.
func TestWorkTasksBadStreams(t *testing.T) {
	s, api, ts := serveH2C(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, c := range []struct {
		name  string
		msgs  []*knhkv1.WorkTasksRequest
		field string
	}{
		{"no queue", []*knhkv1.WorkTasksRequest{{Credits: 1}}, "queue"},
		{"too many credits", []*knhkv1.WorkTasksRequest{{Queue: "q", Credits: MaxStreamCredits + 1}}, "credits"},
		{"credits beyond the bound", []*knhkv1.WorkTasksRequest{{Queue: "q", Credits: MaxStreamCredits}, {Credits: 1}}, "credits"},
		{"negative credits", []*knhkv1.WorkTasksRequest{{Queue: "q", Credits: -1}}, "credits"},
		{"another queue", []*knhkv1.WorkTasksRequest{{Queue: "q", Credits: 1}, {Queue: "r"}}, "queue"},
	} {
		sctx, scancel := context.WithTimeout(ctx, 20*time.Second)
		st := api.WorkTasks(sctx)
		for _, m := range c.msgs {
			st.Send(m) // may fail once the server ended the stream
		}
		var err error
		for err == nil {
			_, err = st.Receive()
		}
		var ce *connect.Error
		if !errors.As(err, &ce) || ce.Code() != connect.CodeInvalidArgument {
			t.Errorf("%s: %v, want invalid_argument", c.name, err)
		} else if !badField(ce, c.field) {
			t.Errorf("%s: %v, want the field %s named", c.name, err, c.field)
		}
		st.CloseRequest()
		st.CloseResponse()
		scancel()
	}

	// HTTP/1.1: refused at once, never hanging.
	h1 := knhkv1connect.NewKnhkServiceClient(http.DefaultClient, ts.URL)
	st := h1.WorkTasks(ctx)
	st.Send(&knhkv1.WorkTasksRequest{Queue: "q", Credits: 1})
	if _, err := st.Receive(); err == nil {
		t.Error("a stream over HTTP/1.1 was accepted")
	}
	st.CloseResponse()

	// A drain ends an idle stream, and Close does not wait for the
	// worker.
	st = api.WorkTasks(ctx)
	if err := st.Send(&knhkv1.WorkTasksRequest{Queue: "q", Credits: 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Receive(); err != nil {
		t.Fatal(err)
	}
	cctx, ccancel := context.WithTimeout(ctx, 20*time.Second)
	defer ccancel()
	if err := s.Close(cctx); err != nil {
		t.Fatalf("close with a stream open: %v", err)
	}
	if m, err := st.Receive(); err == nil {
		t.Fatalf("after the drain the stream sent %v", m)
	}
	st.CloseResponse()
}

// badField says whether err carries a BadInput detail naming field.
func badField(err *connect.Error, field string) bool {
	for _, d := range err.Details() {
		v, derr := d.Value()
		if bi, ok := v.(*knhkv1.BadInput); derr == nil && ok && bi.GetField() == field {
			return true
		}
	}
	return false
}
