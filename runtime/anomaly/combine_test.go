package anomaly_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/anomaly"
	"github.com/knhk/knhk/runtime/export"
)

// TestChooseWeights: a part that separates the labels gets a weight and
// the combined score then separates them; a part that adds nothing to a
// base that already separates them gets none.
func TestChooseWeights(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	n := 400
	labels := make([]anomaly.Kind, n)
	noise, signal, base := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		noise[i] = rng.Float64()
		signal[i] = rng.Float64()
		base[i] = rng.Float64() * 0.1
		if i%10 == 0 {
			labels[i] = anomaly.Skip
			signal[i] += 2
			base[i] += 1
		}
	}
	w := anomaly.ChooseWeights(noise, [][]float64{make([]float64, n), signal}, labels)
	if w[0] != 0 || w[1] == 0 {
		t.Errorf("weights %v, want none for the zero part and some for the signal", w)
	}
	if f := anomaly.BestF1(anomaly.Combine(noise, [][]float64{make([]float64, n), signal}, w), labels); f != 1 {
		t.Errorf("combined F1 %v at weights %v", f, w)
	}
	if w := anomaly.ChooseWeights(base, [][]float64{noise}, labels); w[0] != 0 {
		t.Errorf("a noise part added to a separating base: weight %v", w[0])
	}
}

// TestScoreLog: the scores of knhk cases --anomalies put a case with a
// step no other case takes first, with times in the log or without.
func TestScoreLog(t *testing.T) {
	start := time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC)
	for _, timed := range []bool{true, false} {
		l := &export.Log{}
		for i := range 201 {
			acts := []string{"a", "b", "c"}
			if i == 150 {
				acts = []string{"a", "d", "c"}
			}
			tr := export.Trace{Case: "c"}
			for j, a := range acts {
				e := export.Event{Activity: a, Lifecycle: export.Complete}
				if timed {
					e.Time = start.Add(time.Duration(i)*24*time.Hour + time.Duration(j)*time.Hour)
				}
				tr.Events = append(tr.Events, e)
			}
			l.Traces = append(l.Traces, tr)
		}
		s := anomaly.ScoreLog(l, anomaly.Options{Steps: 300, Ensemble: 1, Seed: 1})
		if len(s) != 201 || slices.Index(s, slices.Max(s)) != 150 {
			t.Errorf("timed %v: the outlier scored %v, the highest %v", timed, s[150], slices.Max(s))
		}
	}
}
