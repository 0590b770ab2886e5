package anomaly_test

import (
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/knhk/knhk/runtime/anomaly"
	"github.com/knhk/knhk/runtime/eventlog/eventlogtest"
)

func evaluate(t *testing.T, name string) *anomaly.Report {
	t.Helper()
	tr, names := anomaly.Traces(eventlogtest.Read(t, name))
	o := anomaly.Options{Seed: 1}
	if raceEnabled {
		o.Steps, o.Ensemble = 200, 1
	}
	r := anomaly.Evaluate(tr, len(names), 0.1, o)
	r.Print(os.Stderr)
	return r
}

// TestRepair: on 03_repairExample, trained on the first two thirds of
// the log and scored on the last third with anomalies injected into 10%
// of it, the autoencoder reaches the trace-level F1 of 0.8 at
// the threshold chosen on the training traces; the trigram baseline of
// the same run is printed beside it.
func TestRepair(t *testing.T) {
	r := evaluate(t, "03_repairExample.xes.gz")
	if r.Test != 1104-int(anomaly.TrainShare*1104) || r.Plain.Anomalous != r.Test/10 || r.Novel.Anomalous != r.Test/10 {
		t.Errorf("held out %d traces, %d and %d anomalous", r.Test, r.Plain.Anomalous, r.Novel.Anomalous)
	}
	if raceEnabled {
		return // bounded training: the F1 goal holds for the full run
	}
	if r.Plain.AE.F1 < 0.8 {
		t.Errorf("autoencoder F1 %.3f, want at least 0.8", r.Plain.AE.F1)
	}
}

// TestHelpdeskReceipt: on helpdesk and 08_receipt the F1 goal of 0.8
// is not reached (docs/mining.md: 0.77 and 0.73 held out; some injected
// anomalies turn a trace into another normal variant, which no detector
// of the activity sequence can tell). The test keeps the detectors
// honest: both flag anomalies far better than chance (0.1), the
// autoencoder beats the trigram baseline of the same run, and the
// printed report carries the numbers.
func TestHelpdeskReceipt(t *testing.T) {
	for _, name := range []string{"helpdesk.csv", "08_receipt.xes.gz"} {
		r := evaluate(t, name)
		if r.Plain.AE.F1 < 0.4 || r.Plain.NGram.F1 < 0.4 {
			t.Errorf("%s: F1 autoencoder %.3f, trigram %.3f", name, r.Plain.AE.F1, r.Plain.NGram.F1)
		}
		if !raceEnabled && r.Plain.AE.F1 <= r.Plain.NGram.F1 {
			t.Errorf("%s: autoencoder F1 %.3f not above the trigram's %.3f", name, r.Plain.AE.F1, r.Plain.NGram.F1)
		}
	}
}

// TestBPI12W prints the evaluation on bpi_12_w, the largest log (about
// ten seconds): set KNHK_ANOMALY_FULL=1 to run it.
func TestBPI12W(t *testing.T) {
	if os.Getenv("KNHK_ANOMALY_FULL") == "" {
		t.Skip("set KNHK_ANOMALY_FULL=1 to evaluate on bpi_12_w")
	}
	r := evaluate(t, "bpi_12_w.csv")
	if r.Plain.AE.F1 < 0.4 {
		t.Errorf("autoencoder F1 %.3f", r.Plain.AE.F1)
	}
}

// TestHeldOut: a detector trained on some traces scores an unseen
// step in a held-out trace above every trace like its training ones,
// and the threshold chosen on labelled scores separates them.
func TestHeldOut(t *testing.T) {
	var train, test [][]int
	for i := range 300 {
		train = append(train, []int{0, 1 + i%2, 3})
	}
	test = append(test, []int{0, 1, 3}, []int{0, 2, 3}, []int{0, 3, 1})
	ae := anomaly.TrainAutoencoder(train, 4, anomaly.Options{Steps: 300, Ensemble: 1})
	for name, s := range map[string][]float64{"autoencoder": ae.Score(test), "trigram": anomaly.TrainNGram(train, 4).Score(test)} {
		if !(s[2] > s[0] && s[2] > s[1]) {
			t.Errorf("%s: scores %v, want the last highest", name, s)
		}
		th := anomaly.BestThreshold(s, []anomaly.Kind{anomaly.Normal, anomaly.Normal, anomaly.Swap})
		if _, _, f := anomaly.F1(s, th, []anomaly.Kind{anomaly.Normal, anomaly.Normal, anomaly.Swap}); f != 1 {
			t.Errorf("%s: threshold %v gives F1 %v", name, th, f)
		}
	}
}

// TestInject: each kind changes the trace as it says, and the share of
// changed traces is the one asked for.
func TestInject(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var traces [][]int
	for range 600 {
		traces = append(traces, []int{0, 1, 2, 3, 4, 5})
	}
	out, labels := anomaly.Inject(traces, 6, 0.1, rng)
	n := 0
	for i, l := range labels {
		if l == anomaly.Normal {
			if !slices.Equal(out[i], traces[i]) {
				t.Fatalf("normal trace %d changed: %v", i, out[i])
			}
			continue
		}
		n++
		o, tr := out[i], traces[i]
		if slices.Equal(o, tr) {
			t.Errorf("%s: trace unchanged", l)
		}
		switch l {
		case anomaly.Skip:
			if len(o) != len(tr)-1 {
				t.Errorf("skip: %v", o)
			}
		case anomaly.Insert:
			if len(o) != len(tr)+1 {
				t.Errorf("insert: %v", o)
			}
		case anomaly.Rework:
			if len(o) <= len(tr) || len(o) > len(tr)+3 {
				t.Errorf("rework: %v", o)
			}
		case anomaly.Swap, anomaly.Early, anomaly.Late:
			s := slices.Clone(o)
			slices.Sort(s)
			if !slices.Equal(s, tr) {
				t.Errorf("%s: not a permutation: %v", l, o)
			}
		}
	}
	if n != 60 {
		t.Errorf("%d anomalous traces, want 60", n)
	}
}

// TestDetectsObvious: in a log of one variant, a trace with an activity
// that never happens elsewhere is the top score of both detectors.
func TestDetectsObvious(t *testing.T) {
	var traces [][]int
	for range 200 {
		traces = append(traces, []int{0, 1, 2})
	}
	traces = append(traces, []int{0, 3, 2})
	for name, s := range map[string][]float64{"autoencoder": anomaly.Autoencoder(traces, 4, anomaly.Options{Steps: 500}), "trigram": anomaly.NGram(traces, 4)} {
		th := anomaly.Threshold(s, 1.0/201)
		for i, v := range s {
			if (v > th) != (i == 200) {
				t.Errorf("%s: trace %d scored %v, threshold %v", name, i, v, th)
			}
		}
	}
}

// TestEvaluateSmall: the smallest logs knhk predict accepts, and logs
// of one activity, evaluate without a panic and with one injected
// anomaly held out.
func TestEvaluateSmall(t *testing.T) {
	for name, traces := range map[string][][]int{
		"ten traces":   {{0, 1, 2}, {0, 2, 1}, {0, 1, 2}, {0, 1}, {0, 1, 2}, {0, 2}, {0, 1, 2}, {0, 1, 2}, {0, 2, 1}, {0, 1, 2}},
		"one activity": {{0}, {0, 0}, {0}, {0}, {0, 0, 0}, {0}, {0}, {0}, {0}, {0}, {0}, {0}},
	} {
		r := anomaly.Evaluate(traces, 3, 0.1, anomaly.Options{Steps: 50, Ensemble: 1})
		if r.Test == 0 || r.Plain.Anomalous != 1 || r.Novel.Anomalous != 1 || r.Train+r.Test != len(traces) {
			t.Errorf("%s: %+v", name, r)
		}
	}
}
