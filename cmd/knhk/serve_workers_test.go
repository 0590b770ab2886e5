// This file tests knhk serve killed under load with external task workers
// attached: an acknowledged completion survives, and a task whose
// completion was acknowledged is never delivered again.

package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/client"
)

const payQueueSource = `package pay

task charge(key: string) -> string queue "pay" retry 5

workflow Pay(key: string) -> string {
  let r = charge(key)
  return r
}
`

// workerLedger is what the workers were told, across every server
// incarnation.
type workerLedger struct {
	mu        sync.Mutex
	delivered map[string]int    // task ID -> deliveries
	acked     map[string]string // task ID -> case, for completions the server acknowledged
	again     []string          // acknowledged IDs delivered again
}

// work polls queue "pay" of c and completes each task with "paid:ID"
// until stop is closed or the server goes.
func (l *workerLedger) work(c *client.Client, stop <-chan struct{}) {
	ctx := context.Background()
	for {
		select {
		case <-stop:
			return
		default:
		}
		res, err := c.API().PollTask(ctx, connectReq(&knhkv1.PollTaskRequest{Queue: "pay", Worker: "w", TimeoutMs: 200}))
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		tk := res.Msg.Task
		if tk == nil {
			continue
		}
		l.mu.Lock()
		l.delivered[tk.Id]++
		if _, ok := l.acked[tk.Id]; ok {
			l.again = append(l.again, tk.Id)
		}
		l.mu.Unlock()
		_, err = c.API().CompleteTask(ctx, connectReq(&knhkv1.CompleteTaskRequest{Id: tk.Id, Token: tk.Token, ResultJson: strconv.Quote("paid:" + tk.Id)}))
		if err == nil {
			l.mu.Lock()
			l.acked[tk.Id] = tk.CaseId
			l.mu.Unlock()
		}
	}
}

// TestServeKillWithWorkers: cases with a queue task are started while
// workers complete the tasks, and the server is SIGKILLed again and again
// (KNHK_SERVE_WORKER_KILLS times, default 10). Then every case whose start
// was acknowledged completes; a case whose task completion was
// acknowledged has exactly that completion's result; and no task whose
// completion was acknowledged was delivered again.
func TestServeKillWithWorkers(t *testing.T) {
	kills := killCount(t, "KNHK_SERVE_WORKER_KILLS")
	dir := t.TempDir()
	ctx := context.Background()
	l := &workerLedger{delivered: map[string]int{}, acked: map[string]string{}}
	var mu sync.Mutex
	started := map[string]string{} // business key -> case, for acknowledged starts
	next := 0
	for k := 0; k <= kills; k++ {
		srv := startServe(t, dir, "data")
		c := client.New(srv.url)
		if k == 0 {
			if _, err := c.Deploy(ctx, "pay.knhk", []byte(payQueueSource)); err != nil {
				t.Fatal(err)
			}
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for i := range 4 {
			if i == 2 {
				wg.Go(func() { l.workStreamed(c, stop) }) // WorkTasks
				continue
			}
			if i%2 == 1 {
				wg.Go(func() { l.workBatched(c, stop) }) // CompleteAndPollTasks
				continue
			}
			wg.Go(func() { l.work(c, stop) })
		}
		if k == kills {
			// The last incarnation only finishes what is left.
			for key, id := range started {
				wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				s, err := c.Wait(wctx, id)
				cancel()
				if err != nil {
					t.Fatalf("case %s (%s): %v", id, key, err)
				}
				if s.Status != "completed" {
					t.Errorf("acknowledged case %s (%s) = %s %q", id, key, s.Status, s.Error)
				}
			}
			// A completion acknowledged to a worker is its case's result,
			// whether or not the start of that case was acknowledged.
			l.mu.Lock()
			for id, caseID := range l.acked {
				wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				s, err := c.Wait(wctx, caseID)
				cancel()
				if err != nil {
					t.Fatalf("case %s: %v", caseID, err)
				}
				if s.ResultJson != strconv.Quote("paid:"+id) {
					t.Errorf("acknowledged completion %s lost: case %s = %s %s %q", id, caseID, s.Status, s.ResultJson, s.Error)
				}
			}
			l.mu.Unlock()
			close(stop)
			wg.Wait()
			if code := srv.stop(t, syscall.SIGTERM); code != 0 {
				t.Fatalf("final serve: exit %d\n%s", code, srv.log())
			}
			break
		}
		for range 4 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					mu.Lock()
					key := fmt.Sprintf("k-%d", next)
					next++
					mu.Unlock()
					r, err := c.Start(ctx, &knhkv1.StartCaseRequest{Workflow: "Pay", InputJson: strconv.Quote(key), BusinessKey: key})
					if err != nil {
						return // the server died
					}
					mu.Lock()
					started[key] = r.CaseId
					mu.Unlock()
				}
			})
		}
		time.Sleep(time.Duration(100+rand.IntN(200)) * time.Millisecond)
		if code := srv.stop(t, syscall.SIGKILL); code != -int(syscall.SIGKILL) {
			t.Fatalf("kill %d: exit %d\n%s", k, code, srv.log())
		}
		close(stop)
		wg.Wait()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.again) > 0 {
		t.Errorf("tasks delivered again after their completion was acknowledged: %v", l.again)
	}
	t.Logf("%d kills, %d acknowledged starts, %d deliveries of %d tasks, %d acknowledged completions",
		kills, len(started), sum(l.delivered), len(l.delivered), len(l.acked))
	if len(l.acked) == 0 {
		t.Fatal("the load acknowledged no completion")
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
