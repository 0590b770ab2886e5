package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/hashicorp/raft"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/client"
	"github.com/knhk/knhk/client/worker"
)

// h2cClient is an HTTP/2 cleartext client of the test's own, as a
// worker's stream uses: the process-wide one of package client could
// keep a connection to a port an earlier test's server closed and a
// later one reuses.
func h2cClient(t *testing.T) *http.Client {
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// h2cAPI is a Connect client of url over HTTP/2 cleartext.
func h2cAPI(t *testing.T, url string) knhkv1connect.KnhkServiceClient {
	return knhkv1connect.NewKnhkServiceClient(h2cClient(t), url)
}

// remoteWorker is worker.Remote for the node at url, its stream on a
// client of the test's own.
func remoteWorker(t *testing.T, url string) worker.Conn {
	return worker.Remote(client.New(url, client.WithStreamHTTPClient(h2cClient(t))).API())
}

// clusterLeader waits for a leader and returns it and the followers.
func clusterLeader(t *testing.T, nodes map[string]*apiNode) (leader string, followers []string) {
	waitCluster(t, "a leader", func() bool {
		for id, a := range nodes {
			if a.n.IsLeader() {
				leader = id
				return true
			}
		}
		return false
	})
	for _, id := range []string{"n1", "n2", "n3"} {
		if _, ok := nodes[id]; ok && id != leader {
			followers = append(followers, id)
		}
	}
	return leader, followers
}

// startTwo starts n cases of Two (inputs from+10*i) through api and
// returns their inputs by case id.
func startTwo(t *testing.T, api knhkv1connect.KnhkServiceClient, prefix string, n, from int) map[string]int {
	ids := map[string]int{}
	for i := range n {
		in := from + 10*i
		req := connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Two", InputJson: fmt.Sprint(in), RequestId: fmt.Sprintf("%s-%d", prefix, i)})
		waitCluster(t, "a start", func() bool {
			r, err := api.StartCase(context.Background(), req)
			if err == nil {
				ids[r.Msg.CaseId] = in
			}
			return err == nil
		})
	}
	return ids
}

// waitTwo waits for each case of ids to complete with its input + 3
// (each step adds one, and the second step's argument is a + 1).
func waitTwo(t *testing.T, api knhkv1connect.KnhkServiceClient, ids map[string]int) {
	for id, in := range ids {
		var last *knhkv1.CaseSummary
		deadline := time.Now().Add(2 * time.Minute)
		for last == nil || last.Status == "running" {
			if time.Now().After(deadline) {
				t.Fatalf("case %s: %+v", id, last)
			}
			r, err := api.WaitCase(context.Background(), connect.NewRequest(&knhkv1.WaitCaseRequest{CaseId: id, TimeoutMs: 2000}))
			if err == nil {
				last = r.Msg.Case
			} else {
				time.Sleep(50 * time.Millisecond)
			}
		}
		if want := fmt.Sprint(in + 3); last.Status != "completed" || last.ResultJson != want {
			t.Fatalf("case %s: %+v, want completed with %s", id, last, want)
		}
	}
}

// TestClusterWorkTasks drives cases of two queue tasks over raw
// WorkTasks streams on a three-node cluster, one stream on a follower
// (passed through to the leader) and one on the leader: each pushes no
// more tasks than credited, a stale token is refused in its ack and
// changes nothing, every valid outcome is acknowledged, and each case
// ends with the result its outcomes give.
func TestClusterWorkTasks(t *testing.T) {
	prog := buildProgram(t, "two.knhk", twoSrc)
	nodes := apiClusterOf(t, prog, true)
	leader, followers := clusterLeader(t, nodes)
	for _, on := range []string{followers[0], leader} {
		t.Run(map[bool]string{true: "leader", false: "follower"}[on == leader], func(t *testing.T) {
			api := h2cAPI(t, nodes[on].srv.URL)
			ids := startTwo(t, api, "s-"+on, 3, 0)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			st := api.WorkTasks(ctx)
			defer st.CloseResponse()
			if err := st.Send(&knhkv1.WorkTasksRequest{Queue: "steps", Worker: "w-" + on, Credits: 2}); err != nil {
				t.Fatal(err)
			}
			if m, err := st.Receive(); err != nil || len(m.GetTasks())+len(m.GetAcks()) != 0 {
				t.Fatalf("first answer: %v %v, want an empty one", m, err)
			}
			held, _ := recvTasks(t, st, 2)
			// A stale token: refused in its ack, no credit granted.
			stale := &knhkv1.TaskOutcome{Id: held[0].GetId(), Token: "stale", Outcome: &knhkv1.TaskOutcome_ResultJson{ResultJson: "1"}}
			if err := st.Send(&knhkv1.WorkTasksRequest{Outcomes: []*knhkv1.TaskOutcome{stale}}); err != nil {
				t.Fatal(err)
			}
			m, err := st.Receive()
			if err != nil {
				t.Fatal(err)
			}
			if len(m.GetTasks()) != 0 || len(m.GetAcks()) != 1 || m.GetAcks()[0].GetCode() != "failed_precondition" {
				t.Fatalf("answer to the stale outcome: %v", m)
			}
			// Then every task to the end, each outcome granting a credit.
			outstanding, done := held, 0
			acked := map[string]bool{}
			for done < 2*len(ids) {
				var outs []*knhkv1.TaskOutcome
				for _, w := range outstanding {
					var x struct{ N int }
					if err := json.Unmarshal([]byte(w.GetInputJson()), &x); err != nil {
						t.Fatal(err)
					}
					outs = append(outs, &knhkv1.TaskOutcome{Id: w.GetId(), Token: w.GetToken(),
						Outcome: &knhkv1.TaskOutcome_ResultJson{ResultJson: fmt.Sprint(x.N + 1)}})
				}
				done += len(outs)
				if err := st.Send(&knhkv1.WorkTasksRequest{Credits: int32(len(outs)), Outcomes: outs}); err != nil {
					t.Fatal(err)
				}
				outstanding = nil
				// The acks of these outcomes, and the next tasks (a case's
				// second task comes once its first outcome is durable).
				want := len(outs)
				if left := 2*len(ids) - done; left < want {
					want = left
				}
				for got := 0; got < want || len(acked) < done; {
					m, err := st.Receive()
					if err != nil {
						t.Fatalf("receive: %v", err)
					}
					for _, a := range m.GetAcks() {
						if a.GetCode() != "" {
							t.Fatalf("outcome %s refused: %v", a.GetId(), a)
						}
						if acked[a.GetId()] {
							t.Fatalf("outcome %s acknowledged twice", a.GetId())
						}
						acked[a.GetId()] = true
					}
					outstanding = append(outstanding, m.GetTasks()...)
					got += len(m.GetTasks())
				}
			}
			if err := st.CloseRequest(); err != nil {
				t.Fatal(err)
			}
			waitTwo(t, api, ids)
		})
	}
}

// logBuffer is a slog handler's output, safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestClusterWorkTasksLeaderChange runs Go workers on their WorkTasks
// streams, one on a follower (passed through to the leader) and one on
// the leader of a three-node cluster, and moves the leadership while
// they hold tasks: the leader's stream ends as its broker closes, the
// follower's as it sees the leader change, both are opened again and
// reach the new leader; every case completes with the result of its
// outcomes (nothing lost), each case's history holds each step's
// outcome once (nothing applied twice), and no worker went back to one
// call per task.
func TestClusterWorkTasksLeaderChange(t *testing.T) {
	prog := buildProgram(t, "two.knhk", twoSrc)
	nodes := apiClusterOf(t, prog, true)
	leader, followers := clusterLeader(t, nodes)

	var mu sync.Mutex
	held := 0
	hold := make(chan struct{})
	handler := func(ctx context.Context, tk *worker.Task) (any, error) {
		var in struct{ N int }
		if err := json.Unmarshal(tk.Input, &in); err != nil {
			return nil, err
		}
		if in.N >= 1000 { // the cases held over the leader change
			mu.Lock()
			held++
			mu.Unlock()
			select {
			case <-hold:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return in.N + 1, nil
	}
	logs := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	for i, on := range []string{followers[0], leader} {
		w, err := worker.New(remoteWorker(t, nodes[on].srv.URL),
			worker.Options{Queue: "steps", ID: fmt.Sprintf("w%d", i), Concurrency: 4, PollWait: time.Second, Log: log}, handler)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); w.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	api := h2cAPI(t, nodes[followers[1]].srv.URL)
	ids := startTwo(t, api, "before", 6, 0)
	waitTwo(t, api, ids)
	late := startTwo(t, api, "held", 4, 1000)
	waitCluster(t, "workers holding tasks", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return held >= 4
	})
	if err := nodes[leader].n.Raft().LeadershipTransfer().Error(); err != nil {
		t.Fatal(err)
	}
	waitCluster(t, "a new leader", func() bool {
		id, _ := nodes[followers[1]].n.Leader()
		return id != "" && id != leader
	})
	close(hold)
	waitTwo(t, api, late)
	for id, in := range late {
		ids[id] = in
	}
	// Each case's history holds two task outcomes: one per step.
	for id := range ids {
		r, err := api.GetHistory(context.Background(), connect.NewRequest(&knhkv1.GetHistoryRequest{CaseId: id, PageSize: 1000}))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		var kinds []string
		for _, e := range r.Msg.Entries {
			kinds = append(kinds, e.Kind+":"+e.Step)
			if e.Kind == "done" && e.Step == "step" {
				n++
			}
		}
		if n != 2 {
			t.Errorf("case %s: %d task outcomes in its history, want 2: %v", id, n, kinds)
		}
	}
	out := logs.String()
	if strings.Contains(out, "does not stream") {
		t.Errorf("a worker went back to one call per task:\n%s", out)
	}
	if !strings.Contains(out, "task stream broke") {
		t.Errorf("no stream broke with the leader change:\n%s", out)
	}
}

// TestClusterWorkTasksWithoutLeader: a worker that starts on a node cut
// off from the leader is answered unavailable on its stream; it keeps to
// the stream, backing off, instead of going back to one call per task,
// and once the node reaches a leader again its tasks come on the stream.
func TestClusterWorkTasksWithoutLeader(t *testing.T) {
	prog := buildProgram(t, "two.knhk", twoSrc)
	nodes := apiClusterOf(t, prog, true)
	_, followers := clusterLeader(t, nodes)
	cut := followers[0]
	for id, o := range nodes {
		if id != cut {
			o.tr.Disconnect(raft.ServerAddress(cut))
		}
	}
	nodes[cut].tr.DisconnectAll()
	waitCluster(t, cut+" to lose its leader", func() bool {
		id, _ := nodes[cut].n.Leader()
		return id == ""
	})

	logs := &logBuffer{}
	w, err := worker.New(remoteWorker(t, nodes[cut].srv.URL),
		worker.Options{Queue: "steps", ID: "w", Concurrency: 4, PollWait: time.Second, Log: slog.New(slog.NewTextHandler(logs, nil))},
		func(ctx context.Context, tk *worker.Task) (any, error) {
			var in struct{ N int }
			if err := json.Unmarshal(tk.Input, &in); err != nil {
				return nil, err
			}
			return in.N + 1, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), "task stream broke"); {
		if time.Now().After(deadline) {
			t.Fatalf("the worker was not refused on its stream:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}

	for id, o := range nodes {
		if id != cut {
			o.tr.Connect(raft.ServerAddress(cut), nodes[cut].tr)
			nodes[cut].tr.Connect(raft.ServerAddress(id), o.tr)
		}
	}
	waitCluster(t, cut+" to reach a leader", func() bool {
		id, _ := nodes[cut].n.Leader()
		return id != ""
	})
	api := h2cAPI(t, nodes[cut].srv.URL)
	waitTwo(t, api, startTwo(t, api, "after", 4, 0))
	if out := logs.String(); strings.Contains(out, "does not stream") {
		t.Fatalf("the worker went back to one call per task:\n%s", out)
	}
}
