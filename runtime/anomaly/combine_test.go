package anomaly_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/anomaly"
	"github.com/knhk/knhk/runtime/export"
)

// TestChooseWeights: a score that separates the labels gets a weight at
// which the combined score separates them, whatever the noise beside
// it; two scores that each find half of the anomalies, on different
// scales, are weighted so that together they find all of them (which
// every weight 1, the search's first start, does not).
func TestChooseWeights(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	n := 400
	labels := make([]anomaly.Kind, n)
	noise, signal, zero := make([]float64, n), make([]float64, n), make([]float64, n)
	big, small := make([]float64, n), make([]float64, n)
	for i := range n {
		noise[i] = rng.Float64()
		signal[i] = rng.Float64()
		big[i] = rng.Float64()
		small[i] = rng.Float64() * 0.1
		if i%10 == 0 {
			labels[i] = anomaly.Skip
			signal[i] += 2
			if i%20 == 0 {
				big[i] = 10
			} else {
				small[i] = 0.3
			}
		}
	}
	parts := [][]float64{noise, zero, signal}
	w := anomaly.ChooseWeights(parts, labels)
	if f := anomaly.BestF1(anomaly.Combine(parts, w), labels); f != 1 || w[2] == 0 {
		t.Errorf("combined F1 %v at weights %v, want 1 with the signal weighted", f, w)
	}
	two := [][]float64{big, small}
	if f := anomaly.BestF1(anomaly.Combine(two, []float64{1, 1}), labels); f == 1 {
		t.Fatalf("equal weights already separate the two halves: the test tests nothing")
	}
	w = anomaly.ChooseWeights(two, labels)
	if f := anomaly.BestF1(anomaly.Combine(two, w), labels); f != 1 {
		t.Errorf("two halves: F1 %v at weights %v, want 1", f, w)
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

// TestScoreLogTimeOnly: in knhk cases --anomalies, a case whose path is
// every case's but whose last step took two and a half days instead of
// about an hour scores highest: only its times tell it.
func TestScoreLogTimeOnly(t *testing.T) {
	start := time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC)
	l := &export.Log{}
	for i := range 201 {
		tr := export.Trace{Case: "c"}
		for j, a := range []string{"a", "b", "c"} {
			at := time.Duration(j) * (time.Hour + time.Duration(i%7)*time.Minute)
			if i == 150 && j == 2 {
				at = 60 * time.Hour
			}
			tr.Events = append(tr.Events, export.Event{Activity: a, Lifecycle: export.Complete, Time: start.Add(time.Duration(i)*24*time.Hour + at)})
		}
		l.Traces = append(l.Traces, tr)
	}
	s := anomaly.ScoreLog(l, anomaly.Options{Steps: 300, Ensemble: 1, Seed: 1})
	if top := slices.Index(s, slices.Max(s)); top != 150 {
		t.Errorf("the slow case scored %v, case %d the highest %v", s[150], top, s[top])
	}
}
