package tenant

// This file holds the design shared by the noisy neighbour benchmarks
// (quota_test.go, cluster_bench_test.go): how a quiet tenant's p99 is
// sampled under each neighbour and how the ratios and their intervals
// are computed.
//
// Why this design: a p99 of a few hundred start-to-result latencies is
// set by its handful of slowest samples, and on a shared machine those
// are single stalls (an fsync queued behind another process's, a
// descheduled core) that land in one condition or another by chance: the
// earlier benchmark's alone-vs-alone ratio ranged 0.63x to 1.71x over
// five runs, wider than the +20% it was to show. So:
//
//   - many short blocks: each round runs a block of `per` quiet cases
//     for every condition, in an order shuffled per round with a new
//     seed every run (a fixed order, or the same orders in every run,
//     would give one condition the backlog of the block before it), so
//     slow spells of the machine fall on every condition alike; the
//     unlimited neighbour, whose backlog outlasts its block, runs in
//     rounds of its own after the others;
//   - large pooled samples: a condition's p99 is over all its blocks
//     (3,000 cases by default), where the 30 slowest, not 8, set it;
//   - alone twice a round (A and A'): the A/A ratio, computed exactly
//     as the others in the same run, is the noise floor a ratio must be
//     read against;
//   - a bootstrap over rounds (resampling whole rounds, the same rounds
//     for a condition and alone, so load that hit both cancels) gives a
//     90% interval for each ratio, instead of a single number that
//     swings;
//   - several runs in one invocation (3 by default), each with its own
//     seed and the machine's load average before and after it, and a
//     summary of each ratio's median over them: one run's p99 still
//     swings with the load of a shared machine (one stop's idle runs
//     went from 0.90x to 1.36x for the same neighbour), so a figure is
//     a median of runs, read with its runs' intervals and the noise
//     floor's;
//   - a warm-up (caches, the tenants' first files, connections) and,
//     after each neighbour's block, a drain until its cases have ended,
//     so no block pays for the one before it; a limited neighbour's
//     block starts from an empty bucket and its quiet cases once it has
//     had a token's time, so it is at its limit while they run;
//   - the neighbour's clients run in a process of their own, in a
//     session of their own (fairproc_test.go), as a tenant's clients on
//     their own machines would: in the server's process their CPU (as
//     much as the server's own for a call) would be taken from the
//     server's, and with the kernel's autogroup scheduling a process of
//     the same session shares its CPU share with the server's;
//   - the quiet client has its own connections: with one shared pool
//     (http.DefaultClient keeps 2 idle connections a host) the quiet
//     tenant's calls would dial anew behind the neighbour's, a cost of
//     the benchmark's clients sharing a process, not of the server.
//
// The benchmarks print ratios, never assert on time.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
)

// fairCond is one neighbour: set prepares the server (its quota) before
// each of its blocks, url and token are the neighbour's server and
// credential and honour whether it waits as the retry hint says (else
// it retries after 1 ms).
type fairCond struct {
	name       string
	set        func()
	url, token string
	honour     bool
	// workflow and input of the neighbour's cases.
	workflow, input string
	// rate is the neighbour's quota rate (0: none): its block's quiet
	// cases start once it has had 1/rate more than the 50 ms every
	// neighbour gets to reach its pace, so that a neighbour at 10/s,
	// whose first token comes 100 ms into its block, is at its limit
	// while they run and not still waiting for it.
	rate float64
}

// fairBench is one noisy neighbour benchmark.
type fairBench struct {
	b         *testing.B
	rounds    int
	per       int // quiet cases per block
	warm      int // quiet cases of the warm-up, not counted
	neighbors int // the neighbour's goroutines
	// quiet runs one quiet case, start to result.
	quiet func() time.Duration
	// drain returns once the neighbour's cases have ended.
	drain func()
	conds []fairCond
	proc  *neighbour // started at the first block beside a neighbour
	// control are neighbours measured after conds, in rounds of their
	// own (a third as many): the unlimited neighbour, which shows the
	// benchmark sees a cost where there is one, and whose backlog (the
	// kernel writing back its thousands of cases) would otherwise fall
	// on whichever block follows its own.
	control []fairCond
	// runs is how many times the rounds run, each with a new seed; the
	// summary gives each ratio's median over them (fairRuns).
	runs int
	// commits, when set, counts the audit log's commits (one write and
	// one fsync each): how much of the shared disk each condition's
	// blocks took through the log.
	commits func() uint64
	// held, when set, counts the calls the host's share held (share.go)
	// and how long in all.
	held func() (int64, time.Duration)
	// trace, when set, records every quiet case and server call
	// (fairtrace_test.go).
	trace *fairTrace
}

// fairRuns is the number of runs in one benchmark invocation, from
// KNHK_FAIR_RUNS (default 3): a median over runs with different seeds
// and at different moments of a shared machine is what the figures
// quote, since one run's p99 can still swing with the machine's load.
func fairRuns() int {
	if n, err := strconv.Atoi(os.Getenv("KNHK_FAIR_RUNS")); err == nil && n > 0 {
		return n
	}
	return 3
}

// loadAvg is the machine's load average over 1, 5 and 15 minutes, as
// /proc/loadavg gives it ("n/a" elsewhere): the figures must be read
// against it, the benchmark's two cores being shared.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "n/a"
}

// fairSamples is the number of quiet cases per condition, from
// KNHK_FAIR_SAMPLES (default def): fewer for a quick look, more for a
// tighter interval.
func fairSamples(def int) int {
	if n, err := strconv.Atoi(os.Getenv("KNHK_FAIR_SAMPLES")); err == nil && n > 0 {
		return n
	}
	return def
}

// ownClient is a client of url whose connections are its own; more
// interceptors run before the bearer's.
func ownClient(url, token string, conns int, more ...connect.Interceptor) knhkv1connect.KnhkServiceClient {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxIdleConns: conns}}
	return knhkv1connect.NewKnhkServiceClient(hc, url, connect.WithInterceptors(append(more, bearerInterceptor(token))...))
}

// quietCase returns a quiet sampler: start workflow with input through c
// and wait for result.
func quietCase(b *testing.B, c knhkv1connect.KnhkServiceClient, workflow, input, result string) func() time.Duration {
	ctx := context.Background()
	return func() time.Duration {
		t0 := time.Now()
		r, err := c.StartCase(ctx, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: workflow, InputJson: input}))
		if err != nil {
			b.Fatal(err)
		}
		w, err := c.WaitCase(ctx, connect.NewRequest(&knhkv1.WaitCaseRequest{CaseId: r.Msg.CaseId, TimeoutMs: 30000}))
		if err != nil || w.Msg.Case.ResultJson != result {
			b.Fatalf("quiet case: %v %v", w, err)
		}
		return time.Since(t0)
	}
}

// fairStats counts what a neighbour did in its blocks.
type fairStats struct {
	started, refused int
	d                time.Duration // the time it ran
	cpu              time.Duration // its client process's CPU meanwhile
	// The calls the share held during its blocks, and how long.
	held    int64
	heldFor time.Duration
	// The audit log's commits while a condition's quiet cases ran,
	// and the time they took (alone's too).
	commits uint64
	quiet   time.Duration
}

// beside runs n quiet cases while c's neighbour starts cases as fast as
// it may.
func (fb *fairBench) beside(c fairCond, n int, st *fairStats) []time.Duration {
	p := fb.neighbourProc()
	var h0 int64
	var hd0 time.Duration
	if fb.held != nil {
		h0, hd0 = fb.held()
		defer func() {
			h, hd := fb.held()
			st.held += h - h0
			st.heldFor += hd - hd0
		}()
	}
	p.start(c, fb.neighbors)
	t0 := time.Now()
	settle := 50 * time.Millisecond // the neighbour at its pace
	if c.rate > 0 {
		settle += time.Duration(float64(time.Second) / c.rate)
	}
	if os.Getenv("KNHK_FAIR_IDLE_SETTLE") == "1" {
		time.Sleep(settle) // the design before, to compare
	} else {
		// The quiet tenant goes on calling meanwhile, its cases not
		// counted, as alone's blocks do from the block before: the
		// first case after an idle pause of 70-150 ms is slow whatever
		// the neighbour does (its median twice a steady case's, its
		// tail many times, KNHK_FAIR_TRACE), and one per block, 2.5%
		// of the cases, set the neighbour blocks' p99 in part.
		cond := fb.trace.at(c.name + "/lead-in")
		for end := t0.Add(settle); time.Now().Before(end); {
			s := time.Now()
			fb.quiet()
			fb.trace.lead(s, time.Since(s))
		}
		fb.trace.at(cond)
	}
	lat := fb.sample(n, st)
	started, refused, cpu := p.stop()
	st.started += started
	st.refused += refused
	st.cpu += cpu
	st.d += time.Since(t0)
	fb.drain()
	return lat
}

// hammer starts c's cases from goroutines clients until ctx ends, and
// counts them.
func hammer(ctx context.Context, c fairCond, goroutines int) (started, refused int) {
	client := ownClient(c.url, c.token, 2*goroutines)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				_, err := client.StartCase(ctx, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: c.workflow, InputJson: c.input}))
				if ctx.Err() != nil {
					return
				}
				mu.Lock()
				if err == nil {
					started++
				} else {
					refused++
				}
				mu.Unlock()
				if err == nil {
					continue
				}
				wait := time.Millisecond // a flood that barely backs off
				if ce := new(connect.Error); c.honour && errors.As(err, &ce) {
					wait = 10 * time.Millisecond
					if ms, perr := strconv.Atoi(ce.Meta().Get(RetryAfterMsHeader)); perr == nil {
						wait = time.Duration(ms) * time.Millisecond
					}
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
		}()
	}
	wg.Wait()
	return started, refused
}

func (fb *fairBench) collect(n int) []time.Duration {
	lat := make([]time.Duration, n)
	for i := range lat {
		t0, gc0 := time.Now(), fb.trace.gcs()
		lat[i] = fb.quiet()
		fb.trace.quiet(t0, lat[i], gc0)
	}
	return lat
}

// fairResult is one run: blocks[c][r] are condition c's quiet latencies
// in round r; conditions 0 and 1 are alone (A and A').
type fairResult struct {
	names  []string
	blocks [][][]time.Duration
	stats  []fairStats
}

// measure runs the warm-up, the rounds of fb.conds and then those of
// fb.control, and reports them.
func (fb *fairBench) measure(label string) {
	fb.collect(fb.warm)
	for _, c := range append(slices.Clone(fb.conds), fb.control...) {
		c.set()
		fb.beside(c, max(1, fb.per/2), new(fairStats))
	}
	runs := max(1, fb.runs)
	all := map[string][]fairRatio{}
	var loads []string
	var pooled, pooledCtl *fairResult
	for i := range runs {
		load := loadAvg()
		seed := uint64(time.Now().UnixNano())
		main := fb.run(fb.conds, fb.rounds, seed)
		var control *fairResult
		if len(fb.control) > 0 {
			control = fb.run(fb.control, max(1, fb.rounds/3), seed+1)
		}
		load += " -> " + loadAvg()
		loads = append(loads, load)
		for name, r := range fb.report(fmt.Sprintf("%s, run %d of %d, load average %s", label, i+1, runs, load), seed, main, control) {
			all[name] = append(all[name], r)
		}
		pooled, pooledCtl = pooled.merge(main), pooledCtl.merge(control)
	}
	// All runs' rounds pooled: a p99 over runs times as many cases, and
	// an interval from resampling all their rounds.
	pool, _ := pooled.ratios(1000)
	if pooledCtl != nil {
		ctl, _ := pooledCtl.ratios(1000)
		for _, name := range pooledCtl.names[2:] {
			pool[name] = ctl[name]
		}
	}
	fb.summary(label, all, pool, loads)
	if s, err := fb.trace.finish(); err != nil {
		fb.b.Error(err)
	} else if s != "" {
		fb.b.Log(s)
	}
}

// merge returns into with res's rounds added to each condition's (a
// copy of res when into is nil); the runs of one invocation have the
// same conditions in the same order.
func (into *fairResult) merge(res *fairResult) *fairResult {
	if res == nil {
		return into
	}
	if into == nil {
		into = &fairResult{names: res.names, blocks: make([][][]time.Duration, len(res.blocks)), stats: make([]fairStats, len(res.stats))}
	}
	for k := range res.blocks {
		into.blocks[k] = append(into.blocks[k], res.blocks[k]...)
	}
	return into
}

// run runs rounds rounds of alone (twice) and conds, each round in an
// order shuffled by the seed's generator: a new seed every run, so that
// no condition follows the same one in every run.
func (fb *fairBench) run(conds []fairCond, rounds int, seed uint64) *fairResult {
	res := &fairResult{names: []string{"alone", "alone'"}}
	for _, c := range conds {
		res.names = append(res.names, c.name)
	}
	res.blocks = make([][][]time.Duration, len(res.names))
	res.stats = make([]fairStats, len(res.names))
	rng := rand.New(rand.NewPCG(seed, 2))
	order := make([]int, len(res.names))
	for i := range order {
		order[i] = i
	}
	for range rounds {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, k := range order {
			fb.trace.at(res.names[k])
			var lat []time.Duration
			if k < 2 {
				lat = fb.sample(fb.per, &res.stats[k])
			} else {
				c := conds[k-2]
				c.set()
				lat = fb.beside(c, fb.per, &res.stats[k])
			}
			res.blocks[k] = append(res.blocks[k], lat)
		}
	}
	return res
}

// sample runs n quiet cases as collect does, adding the audit log's
// commits meanwhile and the time they took to st.
func (fb *fairBench) sample(n int, st *fairStats) []time.Duration {
	count := func() uint64 { return 0 }
	if fb.commits != nil {
		count = fb.commits
	}
	t0, c0 := time.Now(), count()
	lat := fb.collect(n)
	st.commits += count() - c0
	st.quiet += time.Since(t0)
	return lat
}

// p99 is the 99th percentile of the samples of blocks rounds, pooled
// in *buf (kept for the next call).
func p99(blocks [][]time.Duration, rounds []int, buf *[]time.Duration) time.Duration {
	b := (*buf)[:0]
	for _, r := range rounds {
		b = append(b, blocks[r]...)
	}
	slices.Sort(b)
	*buf = b
	return b[len(b)*99/100]
}

// fairRatio is a p99 ratio with its bootstrap 90% interval.
type fairRatio struct{ ratio, lo, hi float64 }

// ratios returns, for each condition from 2 on, its pooled p99 over that
// of alone (A and A' pooled), and, as "noise", A's over A'; each with
// a 90% interval from iters bootstrap resamples of the rounds.
func (res *fairResult) ratios(iters int) (map[string]fairRatio, time.Duration) {
	rounds := len(res.blocks[0])
	all := make([]int, rounds)
	for i := range all {
		all[i] = i
	}
	var buf []time.Duration
	pooled := append(slices.Clone(res.blocks[0]), res.blocks[1]...) // A's rounds, then A''s
	alone := func(rs []int) time.Duration {
		return p99(pooled, append(slices.Clone(rs), shift(rs, rounds)...), &buf)
	}
	type pair struct{ num, den func([]int) time.Duration }
	pairs := map[string]pair{"noise": {
		num: func(rs []int) time.Duration { return p99(res.blocks[0], rs, &buf) },
		den: func(rs []int) time.Duration { return p99(res.blocks[1], rs, &buf) },
	}}
	for k := 2; k < len(res.names); k++ {
		pairs[res.names[k]] = pair{num: func(rs []int) time.Duration { return p99(res.blocks[k], rs, &buf) }, den: alone}
	}
	out := map[string]fairRatio{}
	rng := rand.New(rand.NewPCG(3, 4))
	rs := make([]int, rounds)
	for name, p := range pairs {
		boot := make([]float64, iters)
		for i := range boot {
			for j := range rs {
				rs[j] = rng.IntN(rounds)
			}
			boot[i] = float64(p.num(rs)) / float64(p.den(rs))
		}
		slices.Sort(boot)
		out[name] = fairRatio{
			ratio: float64(p.num(all)) / float64(p.den(all)),
			lo:    boot[iters*5/100],
			hi:    boot[iters*95/100],
		}
	}
	return out, alone(all)
}

// shift returns rs, each plus n (the rounds of A' after A's in a pool of
// both).
func shift(rs []int, n int) []int {
	out := make([]int, len(rs))
	for i, r := range rs {
		out[i] = r + n
	}
	return out
}

// report prints the ratios of main (its conditions and the noise floor)
// and of control (its conditions, over the alone blocks of its own
// rounds), with what each neighbour did, and returns them by name.
func (fb *fairBench) report(label string, seed uint64, main, control *fairResult) map[string]fairRatio {
	rs, alone := main.ratios(1000)
	out := map[string]fairRatio{"p99-alone-ms": {ratio: float64(alone) / float64(time.Millisecond)}}
	var line strings.Builder
	fmt.Fprintf(&line, "%s (seed %d): quiet p99 alone %v over %d cases (%d rounds of %d a condition)", label, seed, alone.Round(time.Microsecond), 2*fb.rounds*fb.per, fb.rounds, fb.per)
	put := func(res *fairResult, rs map[string]fairRatio, name string) {
		r := rs[name]
		out[name] = r
		fmt.Fprintf(&line, "\n  %-8s %.2fx [%.2f, %.2f]", name, r.ratio, r.lo, r.hi)
		if k := slices.Index(res.names, name); k >= 2 {
			st := res.stats[k]
			fmt.Fprintf(&line, "  neighbour started %d (%.1f/s), refused %d (%.1f/s), its clients' CPU %.1f%% of a core", st.started, float64(st.started)/max(st.d.Seconds(), 1e-9), st.refused, float64(st.refused)/max(st.d.Seconds(), 1e-9), 100*st.cpu.Seconds()/max(st.d.Seconds(), 1e-9))
			if fb.held != nil {
				fmt.Fprintf(&line, ", held by the share %d times (%v each on average)", st.held, (st.heldFor / time.Duration(max(1, st.held))).Round(time.Microsecond))
			}
		}
	}
	for _, name := range append(slices.Clone(main.names[2:]), "noise") {
		put(main, rs, name)
	}
	if control != nil {
		crs, calone := control.ratios(1000)
		fmt.Fprintf(&line, "\n  then %d rounds of their own, alone at p99 %v:", len(control.blocks[0]), calone.Round(time.Microsecond))
		for _, name := range control.names[2:] {
			put(control, crs, name)
		}
	}
	if fb.commits != nil {
		fmt.Fprintf(&line, "\n  audit log commits a second while the quiet cases ran:")
		for _, res := range []*fairResult{main, control} {
			if res == nil {
				continue
			}
			for k, name := range res.names {
				if k == 1 && res == main || k < 2 && res != main {
					continue // alone once, of the main rounds
				}
				st := res.stats[k]
				if k == 0 {
					st.commits += res.stats[1].commits
					st.quiet += res.stats[1].quiet
				}
				fmt.Fprintf(&line, " %s %.0f", name, float64(st.commits)/max(st.quiet.Seconds(), 1e-9))
			}
		}
	}
	fb.b.Log(line.String())
	return out
}

// summary prints, and reports as the benchmark's metrics, each ratio's
// median over the runs, with every run's ratio and interval beside it,
// and its ratio and interval over all runs' rounds pooled (pool).
func (fb *fairBench) summary(label string, all map[string][]fairRatio, pool map[string]fairRatio, loads []string) {
	names := slices.Sorted(maps.Keys(all))
	var line strings.Builder
	fmt.Fprintf(&line, "%s: %d runs, load average per run %s.\n"+
		"  Each figure is the quiet tenant's p99 start-to-result beside the neighbour over its p99 alone, measured in the same run,\n"+
		"  with its [90%% bootstrap interval]; noise is alone over alone, the floor a ratio is read against; the +20%% bound is 1.20x.\n"+
		"  condition      median of runs (each run)  |  all runs' rounds pooled",
		label, len(loads), strings.Join(loads, "; "))
	for _, name := range names {
		rs := all[name]
		med := medianRatio(rs)
		if name == "p99-alone-ms" {
			fb.b.ReportMetric(med, name)
			fmt.Fprintf(&line, "\n  %-13s %.2f ms  (runs", "quiet alone", med)
			for _, r := range rs {
				fmt.Fprintf(&line, " %.2f", r.ratio)
			}
			line.WriteString(")")
			continue
		}
		fb.b.ReportMetric(med, name+"/alone")
		fmt.Fprintf(&line, "\n  %-13s %.2fx  (runs", name, med)
		for _, r := range rs {
			fmt.Fprintf(&line, " %.2fx [%.2f, %.2f]", r.ratio, r.lo, r.hi)
		}
		line.WriteString(")")
		if r, ok := pool[name]; ok {
			fb.b.ReportMetric(r.ratio, name+"-pooled")
			fmt.Fprintf(&line, "  |  %.2fx [%.2f, %.2f]", r.ratio, r.lo, r.hi)
		}
	}
	fb.b.Log(line.String())
}

// medianRatio is the median of rs' ratios (the mean of the middle two of an
// even count).
func medianRatio(rs []fairRatio) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = r.ratio
	}
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}

// TestFairRatios checks the benchmarks' arithmetic on made-up rounds: a
// condition twice as slow as alone reads 2x with an interval that holds
// 2 and not 1, one drawn like alone reads about 1x with an interval
// that holds 1, and the noise floor of two draws alike holds 1.
func TestFairRatios(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	draw := func(scale float64) []time.Duration {
		lat := make([]time.Duration, 25)
		for i := range lat {
			// Mostly 2-3 ms, now and then a stall of up to 30 ms.
			ms := 2 + rng.Float64()
			if rng.IntN(50) == 0 {
				ms += 30 * rng.Float64()
			}
			lat[i] = time.Duration(ms * scale * float64(time.Millisecond))
		}
		return lat
	}
	res := &fairResult{names: []string{"alone", "alone'", "same", "double"}, blocks: make([][][]time.Duration, 4)}
	for range 120 {
		for k, scale := range []float64{1, 1, 1, 2} {
			res.blocks[k] = append(res.blocks[k], draw(scale))
		}
	}
	rs, alone := res.ratios(500)
	if alone < 2*time.Millisecond || alone > 40*time.Millisecond {
		t.Fatalf("alone p99 %v", alone)
	}
	d := rs["double"]
	if !(d.lo <= 2 && 2 <= d.hi) || d.lo <= 1 || d.ratio < 1.5 || d.ratio > 2.7 {
		t.Errorf("double: %+v", d)
	}
	for _, name := range []string{"same", "noise"} {
		if r := rs[name]; !(r.lo <= 1 && 1 <= r.hi) || r.lo > r.ratio || r.ratio > r.hi {
			t.Errorf("%s: %+v", name, r)
		}
	}
	// Two runs' rounds merged are the rounds of one run of both.
	half := func(from, to int) *fairResult {
		h := &fairResult{names: res.names, blocks: make([][][]time.Duration, len(res.blocks))}
		for k := range res.blocks {
			h.blocks[k] = res.blocks[k][from:to]
		}
		return h
	}
	var merged *fairResult
	merged = merged.merge(half(0, 50)).merge(half(50, 120))
	mrs, malone := merged.ratios(500)
	if malone != alone || mrs["double"].ratio != d.ratio || mrs["noise"].ratio != rs["noise"].ratio {
		t.Errorf("merged: alone %v double %+v noise %+v, want %v %+v %+v", malone, mrs["double"], mrs["noise"], alone, d, rs["noise"])
	}
}

// emptyBucket is q's bucket with no token saved up: a neighbour that has
// been at its rate for a while.
func emptyBucket(q Quota, now time.Time) *bucket {
	b := newBucket(q, now)
	if b != nil {
		b.tokens = 0
	}
	return b
}
