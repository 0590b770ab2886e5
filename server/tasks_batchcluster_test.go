package server

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/client"
)

// TestClusterCompleteAndPollTasks: on a three-node cluster, a worker
// calling a follower (which forwards to the leader) leases the tasks of
// three cases in batches, completes them in one batch together with a
// stale completion that is refused by index, and each case ends with its
// result.
func TestClusterCompleteAndPollTasks(t *testing.T) {
	prog := buildProgram(t, "pay.knhk", clusterQueueSrc)
	nodes := apiClusterOf(t, prog, true)
	var follower string
	waitCluster(t, "a leader", func() bool {
		for id, a := range nodes {
			if a.n.IsLeader() {
				for o := range nodes {
					if o != id {
						follower = o
					}
				}
				return true
			}
		}
		return false
	})
	api := client.New(nodes[follower].srv.URL).API()
	c := context.Background()
	var ids []string
	for i := range 3 {
		req := connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Pay", InputJson: fmt.Sprint(100 + i), RequestId: fmt.Sprintf("b-%d", i)})
		waitCluster(t, "a start", func() bool {
			r, err := api.StartCase(c, req)
			if err == nil {
				ids = append(ids, r.Msg.CaseId)
			}
			return err == nil
		})
	}
	var held []*knhkv1.WorkerTask
	waitCluster(t, "three tasks", func() bool {
		r, err := api.CompleteAndPollTasks(c, connect.NewRequest(&knhkv1.CompleteAndPollTasksRequest{Queue: "billing", Worker: "wb", MaxTasks: int32(3 - len(held)), WaitMs: 500}))
		if err == nil {
			held = append(held, r.Msg.Tasks...)
		}
		return len(held) == 3
	})
	req := &knhkv1.CompleteAndPollTasksRequest{Queue: "billing", Worker: "wb"}
	for _, tk := range held {
		var in struct{ Amount int }
		if err := json.Unmarshal([]byte(tk.InputJson), &in); err != nil {
			t.Fatal(err)
		}
		res := fmt.Sprintf(`{"id": "rcpt-%d", "cents": %d}`, in.Amount, in.Amount)
		req.Completions = append(req.Completions, &knhkv1.TaskOutcome{Id: tk.Id, Token: tk.Token, Outcome: &knhkv1.TaskOutcome_ResultJson{ResultJson: res}})
	}
	req.Completions = append(req.Completions, &knhkv1.TaskOutcome{Id: held[0].Id, Token: "stale", Outcome: &knhkv1.TaskOutcome_Failure{Failure: "x"}})
	r, err := api.CompleteAndPollTasks(c, connect.NewRequest(req))
	if err != nil {
		t.Fatal(err)
	}
	if e := r.Msg.CompletionErrors; len(e) != 1 || e[0].Index != 3 || e[0].Code == "" || len(r.Msg.Tasks) != 0 {
		t.Fatalf("batch: %v", r.Msg)
	}
	for i, id := range ids {
		var last *knhkv1.CaseSummary
		waitCluster(t, "case "+id, func() bool {
			r, err := api.WaitCase(c, connect.NewRequest(&knhkv1.WaitCaseRequest{CaseId: id, TimeoutMs: 2000}))
			if err == nil {
				last = r.Msg.Case
			}
			return last != nil && last.Status != "running"
		})
		if want := fmt.Sprintf(`"rcpt-%d"`, 100+i); last.Status != "completed" || last.ResultJson != want {
			t.Fatalf("case %s: %+v, want %s", id, last, want)
		}
	}
}
