package main

import (
	"context"
	"strconv"
	"time"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/client"
)

// workBatched is work with the batched call: each CompleteAndPollTasks
// reports the tasks leased by the previous one and leases up to 4 more,
// so a kill lands between a batch's completions being applied and being
// acknowledged. A completion counts as acknowledged when the call
// succeeded and did not refuse it; a call that failed acknowledges none
// (its tasks are delivered again, or were applied and must then not be).
func (l *workerLedger) workBatched(c *client.Client, stop <-chan struct{}) {
	ctx := context.Background()
	var held []*knhkv1.WorkerTask
	for {
		select {
		case <-stop:
			return
		default:
		}
		req := &knhkv1.CompleteAndPollTasksRequest{Queue: "pay", Worker: "wb", MaxTasks: 4, WaitMs: 200}
		for _, tk := range held {
			req.Completions = append(req.Completions, &knhkv1.TaskOutcome{Id: tk.Id, Token: tk.Token,
				Outcome: &knhkv1.TaskOutcome_ResultJson{ResultJson: strconv.Quote("paid:" + tk.Id)}})
		}
		res, err := c.API().CompleteAndPollTasks(ctx, connectReq(req))
		if err != nil {
			held = nil
			time.Sleep(20 * time.Millisecond)
			continue
		}
		refused := map[int32]bool{}
		for _, e := range res.Msg.CompletionErrors {
			refused[e.Index] = true
		}
		l.mu.Lock()
		for i, tk := range held {
			if !refused[int32(i)] {
				l.acked[tk.Id] = tk.CaseId
			}
		}
		held = res.Msg.Tasks
		for _, tk := range held {
			l.delivered[tk.Id]++
			if _, ok := l.acked[tk.Id]; ok {
				l.again = append(l.again, tk.Id)
			}
		}
		l.mu.Unlock()
	}
}
