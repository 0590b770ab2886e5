package predict_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/export"
	"github.com/knhk/knhk/runtime/predict"
)

// sim is a process whose true distribution is known: from each
// activity the next is drawn by fixed probabilities (a Markov chain
// with an end), and each step takes a lognormal time that depends only
// on the activity. The remaining time of a case therefore depends only
// on its last activity, and the best any predictor can do for a prefix
// is the median of the remaining time from that activity.
type sim struct {
	names []string
	next  [][]float64 // next[a][b]: probability of b after a; index len(names) is the end
	mu    []float64   // log-hours of each activity's duration
	sigma []float64
}

var process = sim{
	names: []string{"receive", "check", "fast track", "review", "rework", "ship"},
	next: [][]float64{
		{0, 1, 0, 0, 0, 0, 0},       // receive -> check
		{0, 0, 0.35, 0.65, 0, 0, 0}, // check -> fast track | review
		{0, 0, 0, 0, 0, 1, 0},       // fast track -> ship
		{0, 0, 0, 0, 0.3, 0.7, 0},   // review -> rework | ship
		{0, 0, 0, 0.8, 0, 0.2, 0},   // rework -> review | ship
		{0, 0, 0, 0, 0, 0, 1},       // ship -> end
	},
	mu:    []float64{0, 1, 0.5, 3, 2.5, 1.5},
	sigma: []float64{0.3, 0.5, 0.4, 0.8, 0.6, 0.5},
}

// path draws a case's activities and the duration (hours) of each step
// after the first.
func (s *sim) path(rng *rand.Rand) ([]int, []float64) {
	acts, hours := []int{0}, []float64{0}
	for {
		a := acts[len(acts)-1]
		u, b := rng.Float64(), 0
		for ; b < len(s.next[a]); b++ {
			if u -= s.next[a][b]; u < 0 {
				break
			}
		}
		if b >= len(s.names) {
			return acts, hours
		}
		acts = append(acts, b)
		hours = append(hours, math.Exp(s.mu[b]+s.sigma[b]*rng.NormFloat64()))
	}
}

// simLog draws n cases of the simulated process, one starting every 37
// minutes from 2025-01-01.
func simLog(rng *rand.Rand, n int) *export.Log {
	l := &export.Log{}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for c := range n {
		acts, hours := process.path(rng)
		at := t0.Add(time.Duration(c) * 37 * time.Minute)
		tr := export.Trace{Case: string(rune(0x4e00 + c))}
		for i, a := range acts {
			at = at.Add(time.Duration(hours[i] * float64(time.Hour)))
			tr.Events = append(tr.Events, export.Event{Activity: process.names[a], Time: at})
		}
		l.Traces = append(l.Traces, tr)
	}
	return l
}

// TestSimulator: on the simulated process the model's remaining-time
// MAE is within 5% of the best achievable, the MAE of the true median
// remaining time from each prefix's last activity (estimated from
// 20000 fresh draws per activity).
func TestSimulator(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	n := 3000
	if raceEnabled {
		n = 600
	}
	d, err := predict.FromLog(simLog(rng, n), 5)
	if err != nil {
		t.Fatal(err)
	}
	// The true median remaining time (hours) after each activity, from
	// fresh cases entering at that activity.
	oracle := map[string]float64{}
	for a, name := range process.names {
		var rem []float64
		for range 20000 {
			// Continue a case from activity a.
			total, cur := 0.0, a
			for {
				u, b := rng.Float64(), 0
				for ; b < len(process.next[cur]); b++ {
					if u -= process.next[cur][b]; u < 0 {
						break
					}
				}
				if b >= len(process.names) {
					break
				}
				total += math.Exp(process.mu[b] + process.sigma[b]*rng.NormFloat64())
				cur = b
			}
			rem = append(rem, total)
		}
		slices.Sort(rem)
		oracle[name] = rem[len(rem)/2]
	}
	train, test := d.Split(2.0 / 3)
	o := predict.Options{}
	if raceEnabled {
		o.Steps = 300
	}
	m, err := predict.Train(d.Names, train, o)
	if err != nil {
		t.Fatal(err)
	}
	ps := predict.Prefixes(test, false)
	preds := m.Predict(ps)
	var mae, best float64
	for i, p := range ps {
		y := p.Remaining / 3600
		mae += math.Abs(preds[i].Remaining.Hours() - y)
		best += math.Abs(oracle[d.Names[p.Case.Acts[p.K-1]]] - y)
	}
	mae, best = mae/float64(len(ps)), best/float64(len(ps))
	t.Logf("simulator: MAE %.3f h, best achievable %.3f h, ratio %.3f (%d prefixes)", mae, best, mae/best, len(ps))
	if !raceEnabled && mae > 1.05*best {
		t.Errorf("MAE %.3f h is more than 1.05 times the best achievable %.3f h", mae, best)
	}
}
