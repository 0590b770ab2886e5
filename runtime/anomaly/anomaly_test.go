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

// TestRepair: on 03_repairExample with anomalies injected into 10% of
// the traces the autoencoder reaches the trace-level F1 of 0.8;
// the trigram baseline in the same run is printed beside it.
func TestRepair(t *testing.T) {
	r := evaluate(t, "03_repairExample.xes.gz")
	if raceEnabled {
		return // bounded training: the F1 goal holds for the full run
	}
	if r.AE.F1 < 0.8 {
		t.Errorf("autoencoder F1 %.3f, want at least 0.8", r.AE.F1)
	}
}

// TestHelpdeskReceipt: on helpdesk and 08_receipt the F1 goal of 0.8
// is not reached (docs/mining.md: 0.70 and 0.60; a quarter of the
// anomalies injected into helpdesk turn a trace into another normal
// variant, which no detector of the activity sequence can tell). The
// test keeps the detectors honest: both flag anomalies far better than
// chance (0.1), on helpdesk the autoencoder beats the trigram baseline
// of the same run, and the printed report carries the numbers.
func TestHelpdeskReceipt(t *testing.T) {
	for _, name := range []string{"helpdesk.csv", "08_receipt.xes.gz"} {
		r := evaluate(t, name)
		if r.AE.F1 < 0.4 || r.NGram.F1 < 0.4 {
			t.Errorf("%s: F1 autoencoder %.3f, trigram %.3f", name, r.AE.F1, r.NGram.F1)
		}
		if name == "helpdesk.csv" && !raceEnabled && r.AE.F1 <= r.NGram.F1 {
			t.Errorf("helpdesk: autoencoder F1 %.3f not above the trigram's %.3f", r.AE.F1, r.NGram.F1)
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
