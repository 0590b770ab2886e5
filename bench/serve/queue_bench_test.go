package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/client"
	"github.com/knhk/knhk/client/worker"
	"github.com/knhk/knhk/runtime/store"
	"github.com/knhk/knhk/server"
)

// ten calls a no-op queue task ten times in a row: each call is one
// delivery to an external worker and one durable completion.
const ten = `package ten

task nop(i: int) -> int queue "nop"

workflow Ten(s: string) -> int {
  let a = nop(1)
  let b = nop(a + 1)
  let c = nop(b + 1)
  let d = nop(c + 1)
  let e = nop(d + 1)
  let f = nop(e + 1)
  let g = nop(f + 1)
  let h = nop(g + 1)
  let i = nop(h + 1)
  let j = nop(i + 1)
  return j
}
`

// BenchmarkQueue: per concurrency c, cases of Ten started and awaited
// through the Connect API while Go workers (client/worker) take and
// complete the ten tasks of each case through the same API, by default
// on one WorkTasks stream each (HTTP/2 cleartext: tasks pushed, an
// outcome and its ack one message each). Against it, in the same run:
// the same workers making one CompleteAndPollTask call per task over
// HTTP/1.1 (http-per-task, NoStream), batching their calls
// (http-batched, CompleteAndPollTasks), the same slots on streams in 8
// times fewer, wider workers (wide-workers), calling the Service in process
// (no HTTP on the task path, the start and wait still through the API),
// the previous design over HTTP (each event durable on its own
// before the engine goes on, a poll and a completion per task), and the
// stream with each task offered to workers only once the commit that
// scheduled it is durable and the store's committer waiting for
// stragglers, as before early dispatch (dispatch-after-durable,
// server.Options.DispatchAfterDurable), and the stream's workers with
// each case started and awaited in one StartCase call with wait_ms
// (start-and-wait, client.StartAndWait), also with wide workers
// (wide-start-and-wait). Each op
// is one case from start to result. Besides throughput and p50/p99
// latency it reports the CPU a case costs, the store's group commits
// per case, records per commit and the mean fdatasync. The log compares
// the throughput and the median latency with the per-task calls, the
// previous design and Temporal's figure for the same workload (16-25
// workflows/s, p50 51 ms; the measurement, not run here). The
// process's collector is tuned as knhk serve tunes it (server.TuneGC)
// unless GOGC is set.
func BenchmarkQueue(b *testing.B) {
	if server.TuneGC() {
		b.Log("collector tuned as by knhk serve (server.TuneGC)")
	}
	modes := []string{"http-workers", "in-process-workers", "previous-design", "http-per-task", "http-batched", "wide-workers", "dispatch-after-durable", "start-and-wait", "wide-start-and-wait"}
	for _, c := range []int{1, 64, 1000} {
		var rates, p50s [9]float64
		for k, mode := range modes {
			b.Run(fmt.Sprintf("c=%d/%s", c, mode), func(b *testing.B) {
				var cs commitStats
				s, url := openProgram(b, "ten.knhk", ten, server.Options{IndexEvery: -1, SyncEachEvent: k == 2, DispatchAfterDurable: k == 6,
					Store: store.Options{OnCommit: cs.onCommit}})
				// Room for every call in flight to keep its connection:
				// the starts and waits, and each worker slot's poll.
				// Fewer, and each call past them dialled anew.
				tr := &http.Transport{MaxIdleConnsPerHost: 2*c + workerSlots*workersFor(c), MaxConnsPerHost: 0}
				cl := client.New(url, client.WithHTTPClient(&http.Client{Transport: tr}))
				var conn worker.Conn = worker.Remote(cl.API())
				switch k {
				case 1:
					conn = serviceConn{s}
				case 2:
					conn = twoCalls{worker.Remote(cl.API())}
				}
				n, slots := workersFor(c), workerSlots
				if k == 5 || k == 8 {
					n, slots = wideWorkersFor(c), wideSlots
				}
				stop := startWorkers(b, conn, n, slots, worker.Options{NoStream: k == 3, Batch: k == 4})
				cs.reset()
				b.ResetTimer()
				start := func(ctx context.Context, i int) (string, error) {
					r, err := cl.Start(ctx, tenRequest(i))
					if err != nil {
						return "", err
					}
					return r.CaseId, nil
				}
				wait := func(ctx context.Context, id string) error {
					sum, err := cl.Wait(ctx, id)
					if err == nil {
						err = tenDone(sum)
					}
					return err
				}
				if k == 7 || k == 8 {
					start = func(ctx context.Context, i int) (string, error) {
						sum, err := cl.StartAndWait(ctx, tenRequest(i))
						if err == nil {
							err = tenDone(sum)
						}
						return sum.GetCaseId(), err
					}
					wait = func(context.Context, string) error { return nil }
				}
				rate, lat := run(b, c, max(b.N, c), start, wait)
				b.StopTimer()
				report(b, rate, lat)
				cs.report(b, max(b.N, c))
				rates[k], p50s[k] = rate, float64(pct(lat, 0.5).Microseconds())/1000
				stop()
				tr.CloseIdleConnections()
				s.Close(context.Background())
			})
		}
		for _, k := range []int{0, 4} {
			if rates[k] > 0 && rates[3] > 0 {
				b.Logf("c=%d: %s reach %.2fx the throughput of one call per task (%.0f vs %.0f cases/s), %.2f of its p50 (%.2f vs %.2f ms)",
					c, modes[k], rates[k]/rates[3], rates[k], rates[3], p50s[k]/p50s[3], p50s[k], p50s[3])
			}
		}
		if rates[0] > 0 && rates[5] > 0 {
			b.Logf("c=%d: the same slots in %d workers of %d reach %.2fx the throughput of %d workers of %d (%.0f vs %.0f cases/s), %.2f of their p50 (%.2f vs %.2f ms)",
				c, wideWorkersFor(c), wideSlots, rates[5]/rates[0], workersFor(c), workerSlots, rates[5], rates[0], p50s[5]/p50s[0], p50s[5], p50s[0])
		}
		if rates[0] > 0 && rates[6] > 0 {
			b.Logf("c=%d: early dispatch reaches %.2fx the throughput of dispatch after the commit (%.0f vs %.0f cases/s), %.2f of its p50 (%.2f vs %.2f ms)",
				c, rates[0]/rates[6], rates[0], rates[6], p50s[0]/p50s[6], p50s[0], p50s[6])
		}
		if rates[0] > 0 && rates[1] > 0 {
			b.Logf("c=%d: workers over HTTP reach %.2f of the throughput of workers in process", c, rates[0]/rates[1])
		}
		if rates[0] > 0 && rates[2] > 0 {
			b.Logf("c=%d: %.2fx the throughput of the previous design (%.0f vs %.0f cases/s), %.2f of its p50 (%.2f vs %.2f ms)",
				c, rates[0]/rates[2], rates[0], rates[2], p50s[0]/p50s[2], p50s[0], p50s[2])
		}
		if rates[0] > 0 && rates[7] > 0 {
			b.Logf("c=%d: a start that waits for the result reaches %.2fx the throughput of a start and a wait (%.0f vs %.0f cases/s), %.2f of its p50 (%.2f vs %.2f ms)",
				c, rates[7]/rates[0], rates[7], rates[0], p50s[7]/p50s[0], p50s[7], p50s[0])
		}
		if rates[5] > 0 && rates[8] > 0 {
			b.Logf("c=%d: with wide workers, a start that waits reaches %.2fx the throughput of a start and a wait (%.0f vs %.0f cases/s), %.2f of its p50 (%.2f vs %.2f ms)",
				c, rates[8]/rates[5], rates[8], rates[5], p50s[8]/p50s[5], p50s[8], p50s[5])
		}
		for _, k := range []int{0, 7, 8} {
			if rates[k] > 0 {
				b.Logf("c=%d: %s: %.1fx Temporal's 20 workflows/s (goal 100x), p50 %.2f ms (Temporal 51 ms, goal 2 ms)", c, modes[k], rates[k]/temporalRate, p50s[k])
			}
		}
	}
}

// tenRequest is the start of the i-th case of Ten.
func tenRequest(i int) *knhkv1.StartCaseRequest {
	return &knhkv1.StartCaseRequest{Workflow: "Ten", InputJson: strconv.Quote("x" + strconv.Itoa(i))}
}

// tenDone checks that a case of Ten completed with its result.
func tenDone(sum *knhkv1.CaseSummary) error {
	if sum.Status != "completed" || sum.ResultJson != "10" {
		return fmt.Errorf("case %s: %s %s %s", sum.CaseId, sum.Status, sum.ResultJson, sum.Error)
	}
	return nil
}

// temporalRate is the middle of the 16-25 workflows/s for this
// workload run through Temporal.
const temporalRate = 20

// twoCalls hides a Conn's CompleteAndPoll: the worker then polls and
// completes in two calls per task, as before the fused call.
type twoCalls struct{ worker.Conn }

// workersFor is how many workers poll for c concurrent cases: each
// worker keeps one poll outstanding, so enough of them that a task
// rarely waits for a poller.
func workersFor(c int) int { return min(c, 64) }

// workerSlots is each worker's Concurrency: the polls it keeps open.
const workerSlots = 4

// wideWorkersFor and wideSlots shape the wide-workers mode: as many
// slots as workersFor(c) workers of workerSlots, in 8 times fewer
// worker processes (at least one). Each worker is one
// WorkTasks stream, and a stream carries in one message the tasks,
// outcomes and acks that are ready together: fewer, wider streams cost
// the server fewer messages per task.
func wideWorkersFor(c int) int { return max(workersFor(c)/8, 1) }

const wideSlots = 8 * workerSlots

// startWorkers runs n workers of queue "nop" with slots tasks at a time
// each on conn with o's NoStream and Batch, each answering its task's
// argument, and returns a stop that waits for them.
func startWorkers(b testing.TB, conn worker.Conn, n, slots int, o worker.Options) func() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for i := range n {
		w, err := worker.New(conn, worker.Options{Queue: "nop", ID: "w" + strconv.Itoa(i), Concurrency: slots,
			PollWait: 5 * time.Second, Log: quiet, Batch: o.Batch, NoStream: o.NoStream},
			func(ctx context.Context, t *worker.Task) (any, error) {
				var in struct{ I int }
				if err := json.Unmarshal(t.Input, &in); err != nil {
					return nil, err
				}
				return in.I, nil
			})
		if err != nil {
			b.Fatal(err)
		}
		wg.Go(func() { w.Run(ctx) })
	}
	return func() { cancel(); wg.Wait() }
}

// serviceConn is a worker.Conn over the Service's own task calls: the
// baseline without HTTP on the task path.
type serviceConn struct{ s *server.Service }

func (c serviceConn) PollTask(ctx context.Context, q, id string, wait time.Duration) (*worker.Task, error) {
	t, ok, err := c.s.PollTask(ctx, q, id, wait)
	if err != nil || !ok {
		return nil, err
	}
	return &worker.Task{ID: t.ID, Queue: t.Queue, Task: t.Task, CaseID: t.CaseID, Attempt: t.Attempt,
		Input: t.Input, LeaseToken: t.Token, LeaseDeadline: t.LeaseDeadline, Deadline: t.Deadline}, nil
}

func (c serviceConn) Heartbeat(ctx context.Context, id, token string) (time.Time, error) {
	return c.s.Heartbeat(ctx, id, token)
}

func (c serviceConn) CompleteTask(ctx context.Context, id, token string, result json.RawMessage) error {
	return c.s.CompleteTask(ctx, id, token, result)
}

func (c serviceConn) FailTask(ctx context.Context, id, token, message string) error {
	return c.s.FailTask(ctx, id, token, message)
}

func (c serviceConn) CompleteAndPoll(ctx context.Context, id, token string, result json.RawMessage, q, workerID string, wait time.Duration) (*worker.Task, error) {
	t, ok, err := c.s.CompleteAndPoll(ctx, id, token, result, q, workerID, wait)
	if err != nil || !ok {
		return nil, err
	}
	return &worker.Task{ID: t.ID, Queue: t.Queue, Task: t.Task, CaseID: t.CaseID, Attempt: t.Attempt,
		Input: t.Input, LeaseToken: t.Token, LeaseDeadline: t.LeaseDeadline, Deadline: t.Deadline}, nil
}
