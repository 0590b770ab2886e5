package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/hashicorp/raft"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/client"
	"github.com/knhk/knhk/client/worker"
)

const clusterQueueSrc = `package app

type Receipt = { id: string, cents: int }

task charge(amount: int, who: string) -> Receipt queue "billing" retry 3

workflow Pay(amount: int) -> string {
  let r = charge(amount, "ann")
  return r.id
}
`

// killAPINode stops node id as a crash would: cut off from the others,
// its raft and its API closed.
func killAPINode(t *testing.T, nodes map[string]*apiNode, id string) {
	a := nodes[id]
	delete(nodes, id)
	for _, o := range nodes {
		o.tr.Disconnect(raft.ServerAddress(id))
	}
	a.tr.DisconnectAll()
	if err := a.n.Close(); err != nil {
		t.Logf("closing %s: %v", id, err)
	}
	a.srv.CloseClientConnections()
	a.srv.Close()
}

// TestClusterQueueWorkersSurviveLeaderKill runs the Go worker library
// against two followers of a three-node cluster: the leader hands out
// the tasks (followers forward the workers' calls), the leader is
// killed while workers hold leases, and every case still completes with
// its worker's result; an attempt delivered again after the failover
// carries the same id (the engine's idempotency key). The workers take
// their tasks on WorkTasks streams, passed through to the leader.
func TestClusterQueueWorkersSurviveLeaderKill(t *testing.T) {
	prog := buildProgram(t, "pay.knhk", clusterQueueSrc)
	nodes := apiClusterOf(t, prog, true)
	var leader string
	waitCluster(t, "a leader", func() bool {
		for id, a := range nodes {
			if a.n.IsLeader() {
				leader = id
				return true
			}
		}
		return false
	})
	var followers []string
	for _, id := range []string{"n1", "n2", "n3"} {
		if id != leader {
			followers = append(followers, id)
		}
	}

	var mu sync.Mutex
	seen := map[string]map[string]int{} // case -> task id -> deliveries
	held := 0
	release := make(chan struct{})
	handler := func(ctx context.Context, tk *worker.Task) (any, error) {
		var in struct {
			Amount int `json:"amount"`
		}
		if err := json.Unmarshal(tk.Input, &in); err != nil {
			return nil, err
		}
		mu.Lock()
		if seen[tk.CaseID] == nil {
			seen[tk.CaseID] = map[string]int{}
		}
		seen[tk.CaseID][tk.ID]++
		held++
		mu.Unlock()
		if in.Amount != 100 { // the first case's task finishes at once
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return map[string]any{"id": fmt.Sprintf("rcpt-%d", in.Amount), "cents": in.Amount}, nil
	}
	logs := &logBuffer{}
	quiet := slog.New(slog.NewTextHandler(logs, nil))
	for i, id := range followers {
		w, err := worker.New(remoteWorker(t, nodes[id].srv.URL),
			worker.Options{Queue: "billing", ID: fmt.Sprintf("w%d", i), Concurrency: 4, PollWait: time.Second, Log: quiet}, handler)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); w.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
	}

	api := client.New(nodes[followers[0]].srv.URL).API()
	c := context.Background()
	var ids []string
	for i := range 6 {
		req := connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Pay", InputJson: fmt.Sprint(100 + i), RequestId: fmt.Sprintf("pay-%d", i)})
		var id string
		waitCluster(t, "a start", func() bool {
			r, err := api.StartCase(c, req)
			if err != nil {
				return false
			}
			id = r.Msg.CaseId
			return true
		})
		ids = append(ids, id)
	}
	// The first case completes before the kill: its acknowledged
	// completion must not be run again. The workers hold leases on the
	// leader's broker for the others when it dies.
	waitCluster(t, "the first case", func() bool {
		r, err := api.GetCase(c, connect.NewRequest(&knhkv1.GetCaseRequest{CaseId: ids[0]}))
		return err == nil && r.Msg.Case.Status == "completed"
	})
	waitCluster(t, "workers holding tasks", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return held >= 4
	})
	killAPINode(t, nodes, leader)
	close(release)

	api = client.New(nodes[followers[1]].srv.URL).API()
	for i, id := range ids {
		want := fmt.Sprintf(`"rcpt-%d"`, 100+i)
		var last *knhkv1.CaseSummary
		deadline := time.Now().Add(2 * time.Minute)
		for last == nil || last.Status != "completed" {
			if time.Now().After(deadline) {
				t.Fatalf("case %s: %+v", id, last)
			}
			r, err := api.WaitCase(c, connect.NewRequest(&knhkv1.WaitCaseRequest{CaseId: id, TimeoutMs: 2000}))
			if err == nil {
				last = r.Msg.Case
			} else {
				time.Sleep(50 * time.Millisecond)
			}
			if last != nil && last.Status != "completed" && last.Status != "running" {
				t.Fatalf("case %s: %+v", id, last)
			}
		}
		if last.ResultJson != want {
			t.Fatalf("case %s returned %s, want %s", id, last.ResultJson, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	again := 0
	for cid, tasks := range seen {
		if len(tasks) != 1 {
			t.Errorf("case %s: its attempt came with %d ids %v, want one", cid, len(tasks), tasks)
		}
		for _, n := range tasks {
			if n > 1 {
				again++
			}
		}
	}
	for tid, n := range seen[ids[0]] {
		if n != 1 {
			t.Errorf("the task %s of the case completed before the kill ran %d times", tid, n)
		}
	}
	t.Logf("%d of %d attempts delivered again after the leader's death, with their ids", again, len(seen))
	// The workers took their tasks on WorkTasks streams through the
	// followers, and kept to them after the leader's death.
	if out := logs.String(); strings.Contains(out, "does not stream") {
		t.Errorf("a worker went back to one call per task:\n%s", out)
	}
}
