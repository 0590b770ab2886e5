package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/client"
	"github.com/knhk/knhk/client/worker"
)

const clusterStepsSource = `package steps

task step(n: int) -> int queue "steps"

workflow Two(n: int) -> int {
  let a = step(n)
  let b = step(a + 1)
  return b
}
`

// syncBuffer is a log's output, safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestClusterProcessWorkersStream: Go workers against two knhk serve
// --node processes, one worker on the leader and one on the follower,
// take their tasks on WorkTasks streams (knhk serve --node speaks
// HTTP/2 cleartext; the follower passes its worker's stream through to
// the leader): no worker goes back to one call per task, and every
// case completes with the result of its outcomes.
func TestClusterProcessWorkersStream(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "steps.knhk"), []byte(clusterStepsSource), 0o666); err != nil {
		t.Fatal(err)
	}
	var procs []*serveProc
	defer func() {
		for _, p := range procs {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	}()
	n1 := startServe(t, dir, "d-n1", "--node", "n1", "--raft", "127.0.0.1:0", "steps.knhk")
	procs = append(procs, n1)
	n2 := startServe(t, dir, "d-n2", "--node", "n2", "--raft", "127.0.0.1:0", "steps.knhk", "--join", n1.url)
	procs = append(procs, n2)
	waitUntil(t, "two voters led by n1", func() bool {
		st, ok := clusterStatusOf(t, dir, n2.url)
		return ok && voters(st) == 2 && st.Leader == "n1"
	})

	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	for i, p := range []*serveProc{n1, n2} {
		w, err := worker.New(worker.Remote(client.New(p.url).API()),
			worker.Options{Queue: "steps", ID: fmt.Sprint("w", i), Concurrency: 4, PollWait: time.Second, Log: log},
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
	}

	api := client.New(n2.url).API()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ids := map[string]int{}
	for i := range 8 {
		r, err := api.StartCase(ctx, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Two", InputJson: fmt.Sprint(10 * i), RequestId: fmt.Sprint("s-", i)}))
		if err != nil {
			t.Fatal(err)
		}
		ids[r.Msg.CaseId] = 10 * i
	}
	for id, in := range ids {
		var last *knhkv1.CaseSummary
		for last == nil || last.Status == "running" {
			r, err := api.WaitCase(ctx, connect.NewRequest(&knhkv1.WaitCaseRequest{CaseId: id, TimeoutMs: 2000}))
			if err != nil {
				t.Fatalf("wait %s: %v", id, err)
			}
			last = r.Msg.Case
		}
		if want := fmt.Sprint(in + 3); last.Status != "completed" || last.ResultJson != want {
			t.Fatalf("case %s: %+v, want completed with %s", id, last, want)
		}
	}
	if out := logs.String(); strings.Contains(out, "does not stream") {
		t.Fatalf("a worker went back to one call per task:\n%s", out)
	}
}
