package serve

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/client"
)

// idle's cases wait for a signal and nothing else: no timer, no task.
const idle = `package idle

workflow Idle(k: string) -> string {
  select {
    on signal Go(by: string) -> { return k + " by " + by }
  }
}
`

// TestIdleCases measures what a knhk serve process costs per idle case
// and how long it takes to come back with them: it builds cmd/knhk,
// starts KNHK_IDLE_CASES cases that wait for a signal (in two halves,
// reading the server's VmRSS after each, so the per-case slope is
// measured and not the runtime's fixed cost), stops the server with
// SIGTERM, restarts it on the same directory and times the start to the
// first /readyz 200. Then one case is signalled and must complete, so
// the restart really holds the cases. It does so with every case held
// in the engine (--park=false, the baseline) and with waiting cases
// parked as data (the default), and logs the ratios. Without
// KNHK_IDLE_CASES it skips, except in CI (CI or KNHK_REQUIRE_E2E set),
// where it runs 400 cases: at full size it runs for minutes.
//
//	KNHK_IDLE_CASES=100000 go test -run IdleCases -v -timeout 30m ./bench/serve
func TestIdleCases(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("KNHK_IDLE_CASES"))
	if n <= 0 {
		if os.Getenv("CI") == "" && os.Getenv("KNHK_REQUIRE_E2E") == "" {
			t.Skip("set KNHK_IDLE_CASES=N to hold N idle cases in a knhk serve")
		}
		// CI runs it small (about 20 s) so that the restart still has to
		// hold every parked and held case and complete a signalled one.
		n = 400
	}
	bin := filepath.Join(t.TempDir(), "knhk")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/knhk/knhk/cmd/knhk").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// Held in the engine, a million cases would take over 10 GiB:
	// the baseline runs with at most KNHK_IDLE_BASELINE_CASES (default
	// 100,000) and the ratios compare bytes per case and restart time
	// per case.
	nb := min(n, 100000)
	if v, err := strconv.Atoi(os.Getenv("KNHK_IDLE_BASELINE_CASES")); err == nil && v > 0 {
		nb = v
	}
	held := measureIdle(t, bin, nb, false)
	parked := measureIdle(t, bin, n, true)
	t.Logf("parked (%d cases) over held in the engine (%d cases): %.2f of the bytes per idle case (%.0f vs %.0f), %.3f of the restart time per case (%v for %d vs %v for %d)",
		n, nb, parked.slope/held.slope, parked.slope, held.slope,
		(parked.ready.Seconds()/float64(n))/(held.ready.Seconds()/float64(nb)),
		parked.ready.Round(time.Millisecond), n, held.ready.Round(time.Millisecond), nb)
	t.Logf("at 1,000,000 idle cases, parked: about %.0f MiB of VmRSS (the measured slope times 10^6 plus the server with %d cases)",
		(parked.slope*1e6+float64(parked.rss)-parked.slope*float64(n))/(1<<20), n)
}

// idleResult is what measureIdle found.
type idleResult struct {
	slope float64       // bytes of VmRSS per idle case
	rss   int64         // VmRSS with all n cases, before the restart
	ready time.Duration // restart to /readyz 200
}

// measureIdle runs the measurement of TestIdleCases with waiting cases
// parked or held in the engine.
func measureIdle(t *testing.T, bin string, n int, park bool) idleResult {
	var r idleResult
	data := filepath.Join(t.TempDir(), "data")
	args := []string{"--park=" + strconv.FormatBool(park)}
	srv := serve(t, bin, data, args...)
	ctx := context.Background()
	cl := client.New(srv.url)
	if _, err := cl.Deploy(ctx, "idle.knhk", []byte(idle)); err != nil {
		t.Fatal(err)
	}
	base := srv.status(t)
	t.Logf("park=%v: server with the program deployed, no cases: VmRSS %d MiB", park, base["VmRSS"]>>20)
	var ids []string
	half := n / 2
	for k, upto := range []int{half, n} {
		t0 := time.Now()
		ids = append(ids, startIdle(t, cl, len(ids), upto)...)
		el := time.Since(t0)
		if park {
			waitGauge(t, srv, upto)
		}
		st := srv.status(t)
		t.Logf("park=%v: %d idle cases (%d started at %.0f/s): VmRSS %d MiB, VmHWM %d MiB; %s", park, upto, upto-k*half,
			float64(upto-k*half)/el.Seconds(), st["VmRSS"]>>20, st["VmHWM"]>>20, srv.gauges(t))
		if k == 0 {
			base = st
		} else {
			r.slope = float64(st["VmRSS"]-base["VmRSS"]) / float64(n-half)
			r.rss = st["VmRSS"]
			t.Logf("park=%v: slope: %.0f bytes of VmRSS per idle case (between %d and %d cases)", park, r.slope, half, n)
		}
	}
	t0 := time.Now()
	srv.stop(t)
	t.Logf("park=%v: SIGTERM to exit: %v", park, time.Since(t0).Round(time.Millisecond))

	t0 = time.Now()
	srv = serve(t, bin, data, args...)
	r.ready = srv.waitReady(t, t0)
	st := srv.status(t)
	t.Logf("park=%v: restart to /readyz 200 with %d idle cases: %v; VmRSS %d MiB, VmHWM %d MiB; %s; %s",
		park, n, r.ready.Round(time.Millisecond), st["VmRSS"]>>20, st["VmHWM"]>>20, srv.line("cases in"), srv.gauges(t))
	cl = client.New(srv.url)
	id := ids[len(ids)/3]
	if _, err := cl.Signal(ctx, id, "Go", `"ann"`); err != nil {
		t.Fatal(err)
	}
	sum, err := cl.Wait(ctx, id)
	if err != nil || sum.Status != "completed" || sum.ResultJson != strconv.Quote(fmt.Sprintf("k%d by ann", len(ids)/3)) {
		t.Fatalf("case %s after the restart: %v %v", id, sum, err)
	}
	srv.stop(t)
	return r
}

// waitGauge waits until the server's goroutines number fewer than the
// cases it holds: the drivers of parked cases have exited.
func waitGauge(t *testing.T, srv *child, cases int) {
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if g := srv.goroutines(t); g < cases/2 {
			return
		}
	}
	t.Fatalf("the drivers of %d idle cases did not exit: %s", cases, srv.gauges(t))
}

// startIdle starts the cases from .. upto-1 with 256 callers and
// returns their ids.
func startIdle(t *testing.T, cl *client.Client, from, upto int) []string {
	ids := make([]string, upto-from)
	var next atomic.Int64
	next.Store(int64(from))
	var wg sync.WaitGroup
	for range 256 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= upto {
					return
				}
				r, err := cl.Start(context.Background(), &knhkv1.StartCaseRequest{Workflow: "Idle", InputJson: strconv.Quote(fmt.Sprintf("k%d", i))})
				if err != nil {
					t.Error(err)
					return
				}
				ids[i-from] = r.CaseId
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return ids
}

// child is one knhk serve child process.
type child struct {
	cmd  *exec.Cmd
	url  string
	mu   sync.Mutex
	log  strings.Builder
	done chan error
}

var listeningOn = regexp.MustCompile(`listening on (https?://[^\s"]+)`)

// serve starts knhk serve on data and returns once its listener is up
// (before the data directory is open: /readyz says when it is).
func serve(t *testing.T, bin, data string, args ...string) *child {
	s := &child{cmd: exec.Command(bin, append([]string{"serve", "--data", data, "--listen", "127.0.0.1:0"}, args...)...), done: make(chan error, 1)}
	r, w := io.Pipe()
	s.cmd.Stdout, s.cmd.Stderr = w, w
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait(); w.Close() }()
	t.Cleanup(func() { s.cmd.Process.Kill() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			s.mu.Lock()
			s.log.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			if m := listeningOn.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case s.url = <-found:
	case err := <-s.done:
		t.Fatalf("knhk serve exited: %v\n%s", err, s.line(""))
	case <-time.After(60 * time.Second):
		t.Fatalf("knhk serve did not say where it listens\n%s", s.line(""))
	}
	return s
}

// line returns the first log line that contains sub.
func (s *child) line(sub string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for l := range strings.Lines(s.log.String()) {
		if strings.Contains(l, sub) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// gauges reads the Go runtime's goroutine count and stack and heap
// bytes from /metrics: where the resident memory goes.
func (s *child) gauges(t *testing.T) string {
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out []string
	for l := range strings.Lines(string(b)) {
		for _, name := range []string{"go_goroutines ", "go_memstats_stack_inuse_bytes ", "go_memstats_heap_inuse_bytes "} {
			if v, ok := strings.CutPrefix(l, name); ok {
				f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if name != "go_goroutines " {
					f /= 1 << 20
				}
				out = append(out, fmt.Sprintf("%s%.0f", name, f))
			}
		}
	}
	return strings.Join(out, ", ") + " (MiB)"
}

// goroutines reads go_goroutines from /metrics.
func (s *child) goroutines(t *testing.T) int {
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "go_goroutines "); ok {
			n, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int(n)
		}
	}
	t.Fatal("no go_goroutines in /metrics")
	return 0
}

// waitReady polls /readyz every 5 ms and returns the time since t0 at
// the first 200. A restart that is not ready in 2 minutes fails, with
// the number of files the server holds open and its complaints.
func (s *child) waitReady(t *testing.T, t0 time.Time) time.Duration {
	// A server out of file descriptors leaves connections in the
	// listen backlog: each probe needs its own deadline.
	probe := &http.Client{Timeout: 2 * time.Second}
	for time.Since(t0) < 2*time.Minute {
		resp, err := probe.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(t0)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.cmd.Process.Pid))
	s.mu.Lock()
	notServed := strings.Count(s.log.String(), "is not served")
	s.mu.Unlock()
	t.Fatalf("knhk serve not ready 2 minutes after its start: %d open files, %d cases \"not served\"; first: %s",
		len(fds), notServed, s.line("is not served"))
	return 0
}

// status reads the byte counts of /proc/PID/status (VmRSS, VmHWM, ...).
func (s *child) status(t *testing.T) map[string]int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int64{}
	for l := range strings.Lines(string(b)) {
		k, v, ok := strings.Cut(l, ":")
		f := strings.Fields(v)
		if ok && len(f) == 2 && f[1] == "kB" {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			m[k] = n << 10
		}
	}
	return m
}

// stop sends SIGTERM and waits for exit status 0.
func (s *child) stop(t *testing.T) {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("knhk serve after SIGTERM: %v\n%s", err, s.line(""))
		}
	case <-time.After(5 * time.Minute):
		t.Fatal("knhk serve did not exit within 5 minutes of SIGTERM")
	}
}
