// This file implements the evaluation on a log with injected anomalies.

package anomaly

import (
	"fmt"
	"io"
	"math/rand/v2"
	"slices"

	"github.com/knhk/knhk/runtime/export"
)

// Traces returns the activity sequences of l (events in time order;
// start events dropped when the log has complete ones) and the names
// of the activities.
func Traces(l *export.Log) ([][]int, []string) {
	hasComplete := false
	for _, t := range l.Traces {
		for _, e := range t.Events {
			hasComplete = hasComplete || e.Lifecycle == export.Complete
		}
	}
	var names []string
	ids := map[string]int{}
	out := make([][]int, 0, len(l.Traces))
	for _, t := range l.Traces {
		evs := slices.Clone(t.Events)
		slices.SortStableFunc(evs, func(a, b export.Event) int { return a.Time.Compare(b.Time) })
		var acts []int
		for _, e := range evs {
			if hasComplete && e.Lifecycle == export.Start {
				continue
			}
			id, ok := ids[e.Activity]
			if !ok {
				id = len(names)
				ids[e.Activity] = id
				names = append(names, e.Activity)
			}
			acts = append(acts, id)
		}
		out = append(out, acts)
	}
	return out, names
}

// Report is the result of one evaluation run.
type Report struct {
	// Traces is how many traces the log has; Train of them (the first,
	// in the log's order) train the detectors and Test (the rest) are
	// scored, Anomalous of them with an injected anomaly.
	Traces, Train, Test, Anomalous int
	AE, NGram                      Score
	// Recall by kind of anomaly, for each detector.
	AERecall, NGramRecall map[Kind]float64
}

// Score is one detector's result on the held-out traces.
type Score struct {
	Threshold             float64 // chosen on the training traces
	Precision, Recall, F1 float64
	Best                  float64 // F1 of the best threshold in hindsight
}

// DefaultContamination is the share of cases flagged by knhk cases
// --anomalies, where no labelled data exists to choose a threshold.
const DefaultContamination = 0.1

// TrainShare is the share of a log's traces, the first in its order,
// that the detectors learn from in [Evaluate]; the rest are held out.
const TrainShare = 2.0 / 3

// validShare is the share of the training traces, the last of them,
// held back from the networks to choose the threshold on.
const validShare = 0.2

// Evaluate scores both detectors on held-out traces. The first
// TrainShare of the traces (chronological for an imported log) are the
// training traces: the detectors learn from the first 80% of them as
// they are, unlabelled. The threshold of each detector is the one with
// the best F1 on the other 20%, into which share anomalies are injected
// (the injector's own labels, on training data). The remaining third
// of the log, with anomalies injected into share of it by another
// draw, is scored at that threshold: its labels are used only to count
// the F1.
func Evaluate(traces [][]int, acts int, share float64, o Options) *Report {
	n := len(traces)
	nTrain := int(TrainShare * float64(n))
	nFit := nTrain - int(validShare*float64(nTrain))
	fit, valid, test := traces[:nFit], traces[nFit:nTrain], traces[nTrain:]
	rng := rand.New(rand.NewPCG(o.Seed, 0x696e6a))
	vMixed, vLabels := Inject(valid, acts+1, share, rng) // insert may add an unseen activity
	tMixed, tLabels := Inject(test, acts+1, share, rng)
	r := &Report{Traces: n, Train: nTrain, Test: len(test), AERecall: map[Kind]float64{}, NGramRecall: map[Kind]float64{}}
	for _, l := range tLabels {
		if l != Normal {
			r.Anomalous++
		}
	}
	ae := TrainAutoencoder(fit, acts+1, o)
	ng := TrainNGram(fit, acts+1)
	for _, d := range []struct {
		score func([][]int) []float64
		s     *Score
		rec   map[Kind]float64
	}{{ae.Score, &r.AE, r.AERecall}, {ng.Score, &r.NGram, r.NGramRecall}} {
		th := BestThreshold(d.score(vMixed), vLabels)
		scores := d.score(tMixed)
		d.s.Threshold = th
		d.s.Precision, d.s.Recall, d.s.F1 = F1(scores, th, tLabels)
		d.s.Best = BestF1(scores, tLabels)
		for _, k := range Kinds {
			hit, c := 0, 0
			for i, l := range tLabels {
				if l == k {
					c++
					if scores[i] > th {
						hit++
					}
				}
			}
			if c > 0 {
				d.rec[k] = float64(hit) / float64(c)
			}
		}
	}
	return r
}

// Print writes the report.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "%d traces: %d to train on (the last fifth of them with injected anomalies to choose each threshold on), %d held out, %d of those with an injected anomaly\n", r.Traces, r.Train, r.Test, r.Anomalous)
	for _, d := range []struct {
		name string
		s    Score
		rec  map[Kind]float64
	}{{"autoencoder", r.AE, r.AERecall}, {"trigram    ", r.NGram, r.NGramRecall}} {
		fmt.Fprintf(w, "%s  F1 %.3f (precision %.3f, recall %.3f; best threshold in hindsight %.3f)  recall:", d.name, d.s.F1, d.s.Precision, d.s.Recall, d.s.Best)
		for _, k := range Kinds {
			fmt.Fprintf(w, " %s %.2f", k, d.rec[k])
		}
		fmt.Fprintln(w)
	}
}
