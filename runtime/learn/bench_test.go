// This file holds the benchmarks: the routing benchmark (gap closure and
// learning curves of every policy on the simulated route) and the hot
// path (the p99 of a decision while training saturates a core, against
// its idle p99).

package learn

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/knhk/knhk/runtime/eval"
)

// BenchmarkRouting learns the simulated route with each policy and
// reports its gap closure after routingCases cases (a ratio against the
// random and oracle baselines computed in the same run) and how fast it
// learns. With KNHK_LEARN_CURVES=DIR it also draws the closure of every
// policy against the number of cases, before and after the drift, in
// DIR/routing.png.
func BenchmarkRouting(b *testing.B) {
	curves := map[Algorithm][]float64{}
	for _, alg := range Algorithms {
		b.Run(string(alg), func(b *testing.B) {
			var run simRun
			for i := range b.N {
				run = simulate(b, alg, uint64(i+1), 2*routingCases, 100, true, routingThreshold[alg])
			}
			b.ReportMetric(run.closure[routingCases/100-1], "closure")
			b.ReportMetric(float64(run.recovered), "recovery-cases")
			b.ReportMetric(float64(2*routingCases*b.N)/b.Elapsed().Seconds(), "cases/s")
			curves[alg] = run.closure
		})
	}
	if dir := os.Getenv("KNHK_LEARN_CURVES"); dir != "" {
		if err := plotCurves(filepath.Join(dir, "routing.png"), curves); err != nil {
			b.Fatal(err)
		}
	}
}

// plotCurves draws each policy's gap closure against the cases seen.
func plotCurves(path string, curves map[Algorithm][]float64) error {
	p := plot.New()
	p.Title.Text = "routing benchmark: gap closure (drift at 3000 cases)"
	p.X.Label.Text = "cases"
	p.Y.Label.Text = "(D_random - D_learned) / (D_random - D_oracle)"
	p.Y.Min, p.Y.Max = -1, 1.05
	var args []any
	for _, alg := range Algorithms {
		c, ok := curves[alg]
		if !ok {
			continue
		}
		pts := make(plotter.XYs, len(c))
		for i, y := range c {
			pts[i] = plotter.XY{X: float64((i + 1) * 100), Y: y}
		}
		args = append(args, string(alg), pts)
	}
	if err := plotutil.AddLines(p, args...); err != nil {
		return err
	}
	return p.Save(10*vg.Inch, 5*vg.Inch, path)
}

// BenchmarkDecision measures the latency of Choose on a trained
// actor-critic route (the heaviest snapshot to read) and on a Thompson
// route, first idle, then while another goroutine floods Learn so that
// the route's trainer trains without pause, and reports both p99s and
// their ratio.
func BenchmarkDecision(b *testing.B) {
	for _, alg := range []Algorithm{Thompson, ActorCritic} {
		b.Run(string(alg), func(b *testing.B) {
			p, err := Open(nil, Options{Config: &Config{Default: RouteConfig{Policy: alg}}})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			ctx := context.Background()
			feats := [][]any{{"eu", int64(3)}, {"us", int64(40)}, {"asia", int64(150)}}
			for i := range 2000 {
				f := feats[i%3]
				k, _ := p.Choose(ctx, "carrier", eval.Values(f...), 3)
				p.Learn("carrier", eval.Values(f...), k, -float64(k+i%3), true)
			}
			p.Flush(ctx)
			measure := func() time.Duration {
				lat := make([]time.Duration, b.N)
				for i := range b.N {
					t0 := time.Now()
					p.Choose(ctx, "carrier", eval.Values(feats[i%3]...), 3)
					lat[i] = time.Since(t0)
				}
				slices.Sort(lat)
				return lat[len(lat)*99/100]
			}
			b.ResetTimer()
			idle := measure()
			var stop atomic.Bool
			done := make(chan struct{})
			go func() {
				// Bursts that keep the trainer's queue from running
				// dry, with pauses so that this goroutine itself does
				// not take a core.
				defer close(done)
				for i := 0; !stop.Load(); i++ {
					p.Learn("carrier", eval.Values(feats[i%3]...), i%3, -1, true)
					if i%256 == 255 {
						time.Sleep(2 * time.Millisecond)
					}
				}
			}()
			time.Sleep(20 * time.Millisecond) // the trainer is busy
			busy := measure()
			stop.Store(true)
			<-done
			b.ReportMetric(float64(idle.Nanoseconds()), "p99-idle-ns")
			b.ReportMetric(float64(busy.Nanoseconds()), "p99-training-ns")
			b.ReportMetric(float64(busy)/float64(idle), "p99-ratio")
			if testing.Verbose() {
				fmt.Printf("%s: decision p99 idle %v, while training %v, ratio %.2f\n", alg, idle, busy, float64(busy)/float64(idle))
			}
		})
	}
}
