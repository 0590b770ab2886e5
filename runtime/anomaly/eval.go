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
	Traces, Anomalous int
	Contamination     float64 // the share of cases flagged
	AE, NGram         Score
	// Recall by kind of anomaly, for each detector.
	AERecall, NGramRecall map[Kind]float64
}

// Score is one detector's result.
type Score struct {
	Precision, Recall, F1 float64
	Best                  float64 // F1 of the best threshold in hindsight
}

// DefaultContamination is the share of cases flagged unless told
// otherwise.
const DefaultContamination = 0.1

// Evaluate injects anomalies into share of the traces and scores both
// detectors on all of them.
func Evaluate(traces [][]int, acts int, share float64, o Options) *Report {
	if o.Contamination == 0 {
		o.Contamination = DefaultContamination
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x696e6a))
	mixed, labels := Inject(traces, acts+1, share, rng) // insert may add an unseen activity
	r := &Report{Traces: len(traces), Contamination: o.Contamination, AERecall: map[Kind]float64{}, NGramRecall: map[Kind]float64{}}
	for _, l := range labels {
		if l != Normal {
			r.Anomalous++
		}
	}
	ae := Autoencoder(mixed, acts+1, o)
	ng := NGram(mixed, acts+1)
	for _, d := range []struct {
		scores []float64
		s      *Score
		rec    map[Kind]float64
	}{{ae, &r.AE, r.AERecall}, {ng, &r.NGram, r.NGramRecall}} {
		th := Threshold(d.scores, r.Contamination)
		d.s.Precision, d.s.Recall, d.s.F1 = F1(d.scores, th, labels)
		d.s.Best = BestF1(d.scores, labels)
		for _, k := range Kinds {
			hit, n := 0, 0
			for i, l := range labels {
				if l == k {
					n++
					if d.scores[i] > th {
						hit++
					}
				}
			}
			if n > 0 {
				d.rec[k] = float64(hit) / float64(n)
			}
		}
	}
	return r
}

// Print writes the report.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "%d traces, %d with an injected anomaly; the %.0f%% highest scores flagged\n", r.Traces, r.Anomalous, r.Contamination*100)
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
