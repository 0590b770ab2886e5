// This file runs the workers of this directory against a real server:
// billing.knhk deployed to a server.Service behind its Connect API, and
// worker.py (standard-library Python) or the Go library polling it.

package workers_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/client"
	"github.com/knhk/knhk/client/worker"
	"github.com/knhk/knhk/server"
)

// serve starts a server with billing.knhk deployed and returns its URL
// and a client of it.
func serve(t *testing.T, lease time.Duration) (string, *client.Client) {
	t.Helper()
	return serveToken(t, lease, "")
}

// serveToken is serve with a bearer token that every call must carry.
func serveToken(t *testing.T, lease time.Duration, token string) (string, *client.Client) {
	t.Helper()
	s, err := server.Open(t.TempDir(), server.Options{IndexEvery: -1, Lease: lease})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.NewMux(s, server.MuxOptions{Token: token}))
	t.Cleanup(func() {
		ts.Close()
		s.Close(context.Background())
	})
	c := client.New(ts.URL, client.WithToken(token))
	src, err := os.ReadFile("billing.knhk")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Deploy(context.Background(), "billing.knhk", src); err != nil {
		t.Fatal(err)
	}
	return ts.URL, c
}

// python starts worker.py against serverURL; the returned process is
// killed when the test ends.
func python(t *testing.T, serverURL string, env ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed; the Python worker needs it")
	}
	cmd := exec.Command(py, "worker.py")
	cmd.Env = append(append(os.Environ(), "KNHK_SERVER="+serverURL, "PYTHONDONTWRITEBYTECODE=1"), env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd, out
}

// syncBuffer is a bytes.Buffer that a process writes while the test
// reads it.
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

func start(t *testing.T, c *client.Client, order string, cents int) string {
	t.Helper()
	res, err := c.Start(context.Background(), &knhkv1.StartCaseRequest{Workflow: "Pay",
		InputJson: fmt.Sprintf(`{"order": %q, "cents": %d}`, order, cents)})
	if err != nil {
		t.Fatal(err)
	}
	return res.CaseId
}

// wait waits for case id to end and returns its summary.
func wait(t *testing.T, c *client.Client, id string) *knhkv1.CaseSummary {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := c.Wait(ctx, id)
	if err != nil {
		t.Fatalf("wait %s: %v", id, err)
	}
	return s
}

// TestPythonWorker: worker.py completes the queue task of three cases.
func TestPythonWorker(t *testing.T) {
	url, c := serve(t, 0)
	_, out := python(t, url)
	for i := range 3 {
		order := fmt.Sprintf("o-%d", i)
		s := wait(t, c, start(t, c, order, 100*(i+1)))
		if s.Status != "completed" || s.ResultJson != `"rcpt-`+order+`"` {
			t.Fatalf("case %s = %s %s %q\nworker output:\n%s", order, s.Status, s.ResultJson, s.Error, out)
		}
	}
}

// holdCompletions is a proxy in front of the server that never forwards
// CompleteTask: its first one is reported on held, so that the test can
// kill the worker that sent it while the worker holds the task.
func holdCompletions(t *testing.T, target string) (string, <-chan struct{}) {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	held, quit := make(chan struct{}), make(chan struct{})
	var once sync.Once
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/CompleteTask") {
			// Read the body so that the server notices the client go.
			io.Copy(io.Discard, r.Body)
			once.Do(func() { close(held) })
			select {
			case <-r.Context().Done():
			case <-quit:
			}
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		close(quit)
		ts.Close()
	})
	return ts.URL, held
}

// TestPythonWorkerKilledMidTask: the first worker takes the task and is
// killed (SIGKILL) before its completion reaches the server, while its
// heartbeats kept the lease. Its lease then runs out, attempt 1 fails, the
// retry clause gives attempt 2 to a second worker, and the case completes:
// nothing is lost.
func TestPythonWorkerKilledMidTask(t *testing.T) {
	url, c := serve(t, 900*time.Millisecond)
	via, held := holdCompletions(t, url)
	first, _ := python(t, via)
	id := start(t, c, "o-9", 900)
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("the first worker never tried to complete the task")
	}
	// While the first worker lives, its heartbeats keep the lease: the
	// case waits.
	time.Sleep(2 * time.Second)
	if s, err := c.Get(context.Background(), id); err != nil || s.Status != "running" {
		t.Fatalf("case while the first worker lives = %v, %v", s, err)
	}
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_, out := python(t, url)
	s := wait(t, c, id)
	if s.Status != "completed" || s.ResultJson != `"rcpt-o-9"` {
		t.Fatalf("case = %s %s %q\nsecond worker:\n%s", s.Status, s.ResultJson, s.Error, out)
	}
	h, err := c.API().GetHistory(context.Background(), connect.NewRequest(&knhkv1.GetHistoryRequest{CaseId: id, PageSize: 1000}))
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, e := range h.Msg.Entries {
		fmt.Fprintf(&text, "%s %s %s\n", e.Kind, e.Step, e.Detail)
	}
	if !strings.Contains(text.String(), "lease expired") {
		t.Fatalf("the history does not show the expired lease:\n%s", text.String())
	}
}

// TestGoWorkersShareQueue: two Go workers on one queue through the API
// complete twenty cases between them; a duplicate completion is refused
// with failed_precondition and changes nothing.
func TestGoWorkersShareQueue(t *testing.T) {
	url, c := serve(t, 0)
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	by := map[string]int{}
	var last *worker.Task
	var runs sync.WaitGroup
	for _, name := range []string{"go-1", "go-2"} {
		w, err := worker.New(worker.Remote(client.New(url).API()), worker.Options{Queue: "billing", ID: name, PollWait: time.Second},
			func(ctx context.Context, tk *worker.Task) (any, error) {
				mu.Lock()
				by[name]++
				last = tk
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
				return map[string]any{"id": "go-" + tk.ID, "cents": 1}, nil
			})
		if err != nil {
			t.Fatal(err)
		}
		runs.Go(func() { w.Run(ctx) })
	}
	var ids []string
	for i := range 20 {
		ids = append(ids, start(t, c, fmt.Sprintf("o-%d", i), i+1))
	}
	for _, id := range ids {
		if s := wait(t, c, id); s.Status != "completed" || !strings.HasPrefix(s.ResultJson, `"go-`) {
			t.Fatalf("case %s = %s %s %q", id, s.Status, s.ResultJson, s.Error)
		}
	}
	cancel()
	runs.Wait()
	if len(by) != 2 {
		t.Errorf("tasks by worker = %v, want both workers used", by)
	}
	// The last task is completed; completing it again is refused.
	_, err := c.API().CompleteTask(context.Background(), connect.NewRequest(&knhkv1.CompleteTaskRequest{
		Id: last.ID, Token: last.LeaseToken, ResultJson: `{"id":"twice","cents":1}`}))
	if connect.CodeOf(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "already completed") {
		t.Fatalf("second completion = %v, want failed_precondition", err)
	}
	if !errors.Is(worker.Remote(client.New(url).API()).CompleteTask(context.Background(), last.ID, last.LeaseToken, []byte(`1`)), worker.ErrLeaseLost) {
		t.Error("Remote does not map the refusal to ErrLeaseLost")
	}
}

// TestMistypedResultThroughAPI: a result of the wrong type is refused with
// invalid_argument and the exec task's message, and fails the attempt.
func TestMistypedResultThroughAPI(t *testing.T) {
	_, c := serve(t, 0)
	id := start(t, c, "o-1", 5)
	api := c.API()
	for attempt := 1; attempt <= 4; attempt++ { // retry 3: four attempts
		res, err := api.PollTask(context.Background(), connect.NewRequest(&knhkv1.PollTaskRequest{Queue: "billing", Worker: "w", TimeoutMs: 30000}))
		if err != nil || res.Msg.Task == nil {
			t.Fatalf("poll %d = %v, %v", attempt, res, err)
		}
		tk := res.Msg.Task
		if int(tk.Attempt) != attempt {
			t.Fatalf("poll %d got attempt %d", attempt, tk.Attempt)
		}
		_, err = api.CompleteTask(context.Background(), connect.NewRequest(&knhkv1.CompleteTaskRequest{
			Id: tk.Id, Token: tk.Token, ResultJson: `{"id": "r", "cents": "five"}`}))
		if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "task charge returned a bad result: result.cents") {
			t.Fatalf("complete = %v, want invalid_argument naming result.cents", err)
		}
	}
	s := wait(t, c, id)
	if s.Status != "failed" || !strings.Contains(s.Error, "task charge returned a bad result: result.cents") {
		t.Fatalf("case = %s %q", s.Status, s.Error)
	}
}

// TestServerRestartRedelivers: a task leased when the server stops is
// delivered again, with the same ID (the attempt's idempotency key),
// after a restart on the same data directory; the old lease is refused.
func TestServerRestartRedelivers(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("billing.knhk")
	if err != nil {
		t.Fatal(err)
	}
	open := func() (*server.Service, *client.Client, func()) {
		s, err := server.Open(dir, server.Options{IndexEvery: -1})
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(server.NewMux(s, server.MuxOptions{}))
		return s, client.New(ts.URL), func() {
			ts.Close()
			if err := s.Close(context.Background()); err != nil {
				t.Error(err)
			}
		}
	}
	poll := func(c *client.Client) *knhkv1.WorkerTask {
		res, err := c.API().PollTask(context.Background(), connect.NewRequest(&knhkv1.PollTaskRequest{Queue: "billing", Worker: "w", TimeoutMs: 30000}))
		if err != nil || res.Msg.Task == nil {
			t.Fatalf("poll = %v, %v", res, err)
		}
		return res.Msg.Task
	}
	_, c, stop := open()
	if _, err := c.Deploy(context.Background(), "billing.knhk", src); err != nil {
		t.Fatal(err)
	}
	id := start(t, c, "o-5", 5)
	before := poll(c)
	stop()

	_, c, stop = open()
	defer stop()
	after := poll(c)
	if after.Id != before.Id || after.Attempt != before.Attempt || after.Token == before.Token {
		t.Fatalf("after the restart: id %q attempt %d, before: id %q attempt %d", after.Id, after.Attempt, before.Id, before.Attempt)
	}
	_, err = c.API().CompleteTask(context.Background(), connect.NewRequest(&knhkv1.CompleteTaskRequest{
		Id: before.Id, Token: before.Token, ResultJson: `{"id":"old","cents":5}`}))
	if connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Fatalf("completion under the old lease = %v, want failed_precondition", err)
	}
	if _, err := c.API().CompleteTask(context.Background(), connect.NewRequest(&knhkv1.CompleteTaskRequest{
		Id: after.Id, Token: after.Token, ResultJson: `{"id":"new","cents":5}`})); err != nil {
		t.Fatal(err)
	}
	if s := wait(t, c, id); s.Status != "completed" || s.ResultJson != `"new"` {
		t.Fatalf("case = %s %s %q", s.Status, s.ResultJson, s.Error)
	}
}

// TestGoWorkerProgram builds billing-go, runs it against the server until
// the case completes, then stops it with SIGTERM: it exits 0.
func TestGoWorkerProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	bin := filepath.Join(t.TempDir(), "billing-go")
	if out, err := exec.Command("go", "build", "-o", bin, "./billing-go").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	url, c := serve(t, 0)
	cmd := exec.Command(bin, "--server", url, "--concurrency", "2")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	s := wait(t, c, start(t, c, "o-42", 42))
	if s.Status != "completed" || s.ResultJson != `"rcpt-o-42"` {
		t.Fatalf("case = %s %s %q\n%s", s.Status, s.ResultJson, s.Error, out.String())
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("billing-go after SIGTERM: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "msg=stopped") {
		t.Errorf("no clean stop in the log:\n%s", out.String())
	}
}

// TestPythonWorkerToken: against a server with a bearer token, the
// worker without KNHK_TOKEN is refused (and keeps trying); with it, the
// task is done.
func TestPythonWorkerToken(t *testing.T) {
	url, c := serveToken(t, 0, "s3cret")
	_, out := python(t, url)
	id := start(t, c, "o-1", 100)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "401") {
		if time.Now().After(deadline) {
			t.Fatalf("the worker without a token was not refused:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s, err := c.Get(context.Background(), id); err != nil || s.Status != "running" {
		t.Fatalf("case = %v, %v", s, err)
	}
	python(t, url, "KNHK_TOKEN=s3cret")
	if s := wait(t, c, id); s.Status != "completed" || s.ResultJson != `"rcpt-o-1"` {
		t.Fatalf("case = %s %s %q", s.Status, s.ResultJson, s.Error)
	}
}
