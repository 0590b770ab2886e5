package main

import (
	"context"
	"strconv"
	"time"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/client"
)

// workStreamed is work on a WorkTasks stream (HTTP/2 cleartext): it
// grants 4 credits, answers each task pushed on the stream, and counts
// a completion as acknowledged only when its ack came back without a
// code. A kill lands between a completion being applied and its ack,
// or while tasks are pushed; a broken stream is opened again.
func (l *workerLedger) workStreamed(c *client.Client, stop <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-stop; cancel() }()
	for ctx.Err() == nil {
		l.stream(ctx, c)
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stream runs one WorkTasks stream until it breaks.
func (l *workerLedger) stream(ctx context.Context, c *client.Client) {
	st := c.API().WorkTasks(ctx)
	defer st.CloseResponse()
	// Ending ctx does not end a waiting Receive; closing the stream does.
	defer context.AfterFunc(ctx, func() { st.CloseResponse() })()
	if st.Send(&knhkv1.WorkTasksRequest{Queue: "pay", Worker: "ws", Credits: 4}) != nil {
		return
	}
	sent := map[string]string{} // task -> case, outcome sent, not acknowledged
	for {
		m, err := st.Receive()
		if err != nil {
			return
		}
		l.mu.Lock()
		for _, a := range m.Acks {
			if a.Code == "" {
				l.acked[a.Id] = sent[a.Id]
			}
			delete(sent, a.Id)
		}
		var out []*knhkv1.TaskOutcome
		for _, tk := range m.Tasks {
			l.delivered[tk.Id]++
			if _, ok := l.acked[tk.Id]; ok {
				l.again = append(l.again, tk.Id)
			}
			sent[tk.Id] = tk.CaseId
			out = append(out, &knhkv1.TaskOutcome{Id: tk.Id, Token: tk.Token,
				Outcome: &knhkv1.TaskOutcome_ResultJson{ResultJson: strconv.Quote("paid:" + tk.Id)}})
		}
		l.mu.Unlock()
		if len(out) > 0 && st.Send(&knhkv1.WorkTasksRequest{Outcomes: out, Credits: int32(len(out))}) != nil {
			return
		}
	}
}
