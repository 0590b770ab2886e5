package serve

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/client"
	"github.com/knhk/knhk/server"
)

// noop's one task is a std module call that does next to nothing.
const noop = `package noop

import "std/strings"

workflow Echo(s: string) -> string {
  let u = strings.upper(s)
  return u
}
`

// run starts total cases, c at a time, each with start and waits for it
// with wait, and returns the throughput and the latencies, sorted.
func run(b testing.TB, c, total int, start func(ctx context.Context, i int) (string, error), wait func(ctx context.Context, id string) error) (float64, []time.Duration) {
	ctx := context.Background()
	cpu0, io0 := cpuTime(), ioCalls()
	defer func() {
		if bb, ok := b.(*testing.B); ok {
			bb.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(total), "cpu-µs/case")
			if io0 >= 0 {
				bb.ReportMetric(float64(ioCalls()-io0)/float64(total), "io-calls/case")
			}
		}
	}()
	lat := make([]time.Duration, total)
	var next atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				t := time.Now()
				id, err := start(ctx, i)
				if err == nil {
					err = wait(ctx, id)
				}
				if err != nil {
					b.Error(err)
					return
				}
				lat[i] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	slices.Sort(lat)
	return float64(total) / el.Seconds(), lat
}

// ioCalls is how many read and write system calls (sockets and files)
// the process made so far, -1 where /proc does not say: unlike the
// CPU, it does not grow when the benchmark shares the machine, so it
// shows what coalescing messages saves even on a busy one.
func ioCalls() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	var n int64
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if ok && (k == "syscr" || k == "syscw") {
			x, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return -1
			}
			n += x
		}
	}
	return n
}

// cpuTime is the user and system CPU time of the process so far: on a
// shared machine, the CPU a case costs says more than the throughput,
// which depends on the share of the CPUs the benchmark gets.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func pct(lat []time.Duration, p float64) time.Duration {
	return lat[min(int(float64(len(lat))*p), len(lat)-1)]
}

// BenchmarkServe: per concurrency, the API through HTTP and the Service
// in process. Each op is one case from start to result.
func BenchmarkServe(b *testing.B) {
	for _, c := range []int{1, 64, 1000} {
		var apiRate, inRate float64
		b.Run(fmt.Sprintf("c=%d/api", c), func(b *testing.B) {
			s, url := open(b)
			tr := &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: 0}
			cl := client.New(url, client.WithHTTPClient(&http.Client{Transport: tr}))
			b.ResetTimer()
			rate, lat := run(b, c, max(b.N, c), func(ctx context.Context, i int) (string, error) {
				r, err := cl.Start(ctx, &knhkv1.StartCaseRequest{Workflow: "Echo", InputJson: strconv.Quote("x" + strconv.Itoa(i))})
				if err != nil {
					return "", err
				}
				return r.CaseId, nil
			}, func(ctx context.Context, id string) error {
				sum, err := cl.Wait(ctx, id)
				if err == nil && sum.Status != "completed" {
					err = fmt.Errorf("case %s: %s %s", id, sum.Status, sum.Error)
				}
				return err
			})
			b.StopTimer()
			report(b, rate, lat)
			apiRate = rate
			tr.CloseIdleConnections()
			s.Close(context.Background())
		})
		b.Run(fmt.Sprintf("c=%d/in-process", c), func(b *testing.B) {
			s, _ := open(b)
			b.ResetTimer()
			rate, lat := run(b, c, max(b.N, c), func(ctx context.Context, i int) (string, error) {
				id, _, err := s.Start(ctx, server.StartRequest{Workflow: "Echo", Input: []byte(strconv.Quote("x" + strconv.Itoa(i)))})
				return id, err
			}, func(ctx context.Context, id string) error {
				sum, _, err := s.Wait(ctx, id, false)
				if err == nil && sum.Status != "completed" {
					err = fmt.Errorf("case %s: %s %s", id, sum.Status, sum.Error)
				}
				return err
			})
			b.StopTimer()
			report(b, rate, lat)
			inRate = rate
			s.Close(context.Background())
		})
		if inRate > 0 {
			b.Logf("c=%d: the API reaches %.2f of the in-process throughput", c, apiRate/inRate)
		}
	}
}

// report adds the throughput and the median and 99th percentile
// start-to-result latency to b's results.
func report(b *testing.B, rate float64, lat []time.Duration) {
	b.ReportMetric(rate, "cases/s")
	b.ReportMetric(float64(pct(lat, 0.5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(lat, 0.99).Microseconds())/1000, "p99-ms")
}

func open(b *testing.B) (*server.Service, string) {
	return openProgram(b, "noop.knhk", noop, server.Options{IndexEvery: -1})
}

// openProgram opens a Service with o in a temporary directory, deploys
// source as file and serves the API over HTTP on a local port.
func openProgram(b *testing.B, file, source string, o server.Options) (*server.Service, string) {
	s, err := server.Open(b.TempDir(), o)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Deploy(file, []byte(source), nil); err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(server.NewMux(s, server.MuxOptions{}))
	// As knhk serve: HTTP/1.1, and HTTP/2 cleartext for workers' streams.
	ts.Config.Protocols = new(http.Protocols)
	ts.Config.Protocols.SetHTTP1(true)
	ts.Config.Protocols.SetUnencryptedHTTP2(true)
	ts.Start()
	b.Cleanup(ts.Close)
	return s, ts.URL
}
