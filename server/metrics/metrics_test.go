package metrics_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/queue"
	"github.com/knhk/knhk/runtime/store"
	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/metrics"
)

const shopSrc = `package shop

import "std/kv"

task charge(amount: int) -> string queue "billing" retry 1

workflow Put(k: string) -> string {
  kv.put(k, "v")
  return k
}

workflow Pay(amount: int) -> string {
  let r = charge(amount)
  return r
}

workflow Hold(id: string) -> string {
  select {
    on signal Go(by: string) -> { return id + " by " + by }
    on timer 48h -> { fail "nobody came" }
  }
}
`

// scrape GETs url/metrics and parses the text format.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("/metrics: %s\n%s", resp.Status, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// series returns the metrics of family name as "label=value,..." -> metric.
func series(fams map[string]*dto.MetricFamily, name string) map[string]*dto.Metric {
	out := map[string]*dto.Metric{}
	f := fams[name]
	if f == nil {
		return out
	}
	for _, m := range f.Metric {
		var ls []string
		for _, l := range m.Label {
			ls = append(ls, l.GetName()+"="+l.GetValue())
		}
		sort.Strings(ls)
		out[strings.Join(ls, ",")] = m
	}
	return out
}

func value(m *dto.Metric) float64 {
	switch {
	case m == nil:
		return -1
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return -2
}

// TestScrape runs real cases through a Service with metrics (kv tasks,
// a queue task whose first lease expires, a signal, a case left
// waiting), scrapes /metrics over HTTP and checks every number against
// what happened: the case counts, the events and transitions against
// the records in the log, the task and queue counts, and the group
// commits against the log's length.
func TestScrape(t *testing.T) {
	dir := t.TempDir()
	m := metrics.New(metrics.Options{})
	svc, err := server.Open(dir, server.Options{IndexEvery: -1, Observer: m, Lease: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	m.WatchCases(svc)
	m.WatchQueues(svc)
	var h metrics.Health
	h.Ready()
	mux := server.NewMux(svc, server.MuxOptions{})
	metrics.Mount(mux, m, &h)
	ts := httptest.NewServer(mux)
	defer ts.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := svc.Deploy("shop.knhk", []byte(shopSrc), nil); err != nil {
		t.Fatal(err)
	}
	start := func(wf, in string) string {
		t.Helper()
		id, _, err := svc.Start(ctx, server.StartRequest{Workflow: wf, Input: []byte(in)})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	waitDone := func(id, status string) {
		t.Helper()
		sum, done, err := svc.Wait(ctx, id, false)
		if err != nil || !done || sum.Status != status {
			t.Fatalf("case %s: %+v %v %v, want %s", id, sum, done, err, status)
		}
	}
	for i := range 3 {
		waitDone(start("Put", fmt.Sprintf(`"k%d"`, i)), "completed")
	}

	pay := start("Pay", "250")
	// The attempt waits in the queue until a worker polls it.
	for {
		if value(series(scrape(t, ts.URL), "knhk_queue_pending")["queue=billing"]) == 1 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("knhk_queue_pending{queue=billing} never became 1")
		}
		time.Sleep(10 * time.Millisecond)
	}
	first := pollTask(t, ctx, svc)
	// No heartbeat: the lease expires, the attempt fails, the retry comes.
	second := pollTask(t, ctx, svc)
	if second.Attempt != 2 || first.Attempt != 1 {
		t.Fatalf("attempts %d, %d", first.Attempt, second.Attempt)
	}
	if err := svc.CompleteTask(ctx, second.ID, second.Token, []byte(`"r-1"`)); err != nil {
		t.Fatal(err)
	}
	waitDone(pay, "completed")

	h1, h2 := start("Hold", `"a"`), start("Hold", `"b"`)
	if _, err := svc.Signal(ctx, h1, "Go", []byte(`"ann"`)); err != nil {
		t.Fatal(err)
	}
	waitDone(h1, "completed")
	idle, _, err := svc.Wait(ctx, h2, true)
	if err != nil || idle.Status != "running" {
		t.Fatalf("Hold b: %+v %v", idle, err)
	}

	// Drain, so that every append (the drain's snapshots too) is done.
	if err := svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, ts.URL)

	// Cases by workflow and status.
	cases := series(fams, "knhk_cases")
	wantCases := map[string]float64{
		"status=completed,workflow=Put":  3,
		"status=completed,workflow=Pay":  1,
		"status=completed,workflow=Hold": 1,
		"status=running,workflow=Hold":   1,
	}
	if len(cases) != len(wantCases) {
		t.Errorf("knhk_cases has %d series, want %d: %v", len(cases), len(wantCases), keys(cases))
	}
	for k, want := range wantCases {
		if got := value(cases[k]); got != want {
			t.Errorf("knhk_cases{%s} = %v, want %v", k, got, want)
		}
	}

	// Events and transitions against the records of the log.
	st, err := store.OpenReadOnly(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]float64{}
	if err := st.Scan(ctx, 1, func(r store.Record) error {
		if r.Kind != engine.SnapshotKind {
			kinds[r.Kind]++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	last := st.LastSeq()
	st.Close()
	if kinds["start"] != 6 {
		t.Fatalf("the log has %v start events, want 6", kinds["start"])
	}
	events := series(fams, "knhk_events_total")
	for k, n := range kinds {
		if got := value(events["kind="+k]); got != n {
			t.Errorf("knhk_events_total{kind=%s} = %v, the log has %v", k, got, n)
		}
	}
	for k, m := range events {
		if value(m) != 0 && kinds[strings.TrimPrefix(k, "kind=")] == 0 {
			t.Errorf("knhk_events_total{%s} = %v, the log has none", k, value(m))
		}
	}
	if got, want := value(series(fams, "knhk_transitions_total")[""]), kinds["fire"]+kinds["timer"]; got != want || want == 0 {
		t.Errorf("knhk_transitions_total = %v, the log has %v fire and timer events", got, want)
	}

	// Task attempts: three kv puts, the expired charge and its retry.
	tasks := series(fams, "knhk_task_duration_seconds")
	wantTasks := map[string]uint64{
		"outcome=ok,queue=,task=kv.put":           3,
		"outcome=error,queue=billing,task=charge": 1,
		"outcome=ok,queue=billing,task=charge":    1,
	}
	if len(tasks) != len(wantTasks) {
		t.Errorf("knhk_task_duration_seconds has series %v, want %d", keys(tasks), len(wantTasks))
	}
	for k, want := range wantTasks {
		m := tasks[k]
		if m == nil || m.Histogram == nil || m.Histogram.GetSampleCount() != want {
			t.Errorf("knhk_task_duration_seconds{%s}: %v, want %d samples (series %v)", k, m, want, keys(tasks))
		}
	}
	// The expired attempt lasted at least its lease.
	if m := tasks["outcome=error,queue=billing,task=charge"]; m != nil && m.Histogram.GetSampleSum() < 0.15 {
		t.Errorf("the expired attempt took %vs, less than its lease", m.Histogram.GetSampleSum())
	}

	// Queues.
	for name, want := range map[string]float64{
		"knhk_queue_pending":              0,
		"knhk_queue_leased":               0,
		"knhk_queue_lease_expiries_total": 1,
	} {
		if got := value(series(fams, name)["queue=billing"]); got != want {
			t.Errorf("%s{queue=billing} = %v, want %v", name, got, want)
		}
	}
	qt := series(fams, "knhk_queue_tasks_total")
	for r, want := range map[string]float64{"completed": 1, "failed": 0, "expired": 1, "withdrawn": 0} {
		if got := value(qt["queue=billing,result="+r]); got != want {
			t.Errorf("knhk_queue_tasks_total{queue=billing,result=%s} = %v, want %v", r, got, want)
		}
	}

	// Group commits: their records add up to the log's length.
	batch := fams["knhk_store_commit_records"].GetMetric()[0].GetHistogram()
	fsync := fams["knhk_store_fsync_seconds"].GetMetric()[0].GetHistogram()
	if batch.GetSampleSum() != float64(last) {
		t.Errorf("group commits wrote %v records, the log has %d", batch.GetSampleSum(), last)
	}
	if n := batch.GetSampleCount(); n == 0 || n > uint64(last) || fsync.GetSampleCount() != n {
		t.Errorf("%d group commits and %d fsyncs for %d records", n, fsync.GetSampleCount(), last)
	}
	if value(series(fams, "knhk_store_commit_bytes_total")[""]) <= 0 {
		t.Error("knhk_store_commit_bytes_total is 0")
	}
}

func pollTask(t *testing.T, ctx context.Context, svc *server.Service) queue.Task {
	t.Helper()
	task, ok, err := svc.PollTask(ctx, "billing", "w1", 10*time.Second)
	if err != nil || !ok {
		t.Fatalf("poll of billing: %v %v", ok, err)
	}
	return task
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestLint runs the Prometheus linter over every metric of a server
// that has run cases (names, units, help texts, counter suffixes).
func TestLint(t *testing.T) {
	m := metrics.New(metrics.Options{})
	svc, err := server.Open(t.TempDir(), server.Options{IndexEvery: -1, Observer: m})
	if err != nil {
		t.Fatal(err)
	}
	m.WatchCases(svc)
	m.WatchQueues(svc)
	ctx := context.Background()
	if _, err := svc.Deploy("shop.knhk", []byte(shopSrc), nil); err != nil {
		t.Fatal(err)
	}
	id, _, err := svc.Start(ctx, server.StartRequest{Workflow: "Put", Input: []byte(`"k"`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Wait(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Start(ctx, server.StartRequest{Workflow: "Pay", Input: []byte(`1`)}); err != nil {
		t.Fatal(err)
	}
	defer svc.Close(ctx)
	problems, err := testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
	if n := testutil.CollectAndCount(m.Registry(), "knhk_cases"); n != 2 {
		t.Errorf("knhk_cases has %d series, want 2 (Put completed, Pay running)", n)
	}
}
