// This file implements the evaluation on a log with injected anomalies.

package anomaly

import (
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"text/tabwriter"

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

// Report is the result of one evaluation run, under both protocols of
// injection ([Inject], [InjectNovel]) with the same trained detectors.
type Report struct {
	// Traces is how many traces the log has; Train of them (the first,
	// in the log's order) train the detectors and Test (the rest) are
	// scored.
	Traces, Train, Test int
	// Plain keeps every injection; Novel draws again one that gives the
	// path of a normal trace of the log.
	Plain, Novel Result
}

// Protocol is how anomalies are injected for an evaluation.
type Protocol int

const (
	// Plain keeps every injection ([Inject]).
	Plain Protocol = iota
	// Novel draws again an injection whose path a normal trace of the
	// log follows ([InjectNovel]).
	Novel
)

func (p Protocol) String() string { return [...]string{"plain", "novel"}[p] }

// Result is both detectors' scores under one protocol.
type Result struct {
	Protocol Protocol
	// Anomalous is how many held-out traces have an injected anomaly.
	Anomalous int
	AE, NGram Score
	// Kinds breaks the anomalies down by kind, in the order of [Kinds].
	Kinds []KindResult
}

// KindResult counts one kind of anomaly among the held-out traces.
type KindResult struct {
	Kind     Kind
	Injected int
	// NormalPath is how many of them have the path of a normal trace of
	// the log (none under the novel protocol): no detector of the
	// activity sequence can flag those.
	NormalPath int
	// Found is how many each detector flags.
	AEFound, NGramFound int
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

// Evaluate scores both detectors on held-out traces, under both
// protocols. The first TrainShare of the traces (chronological for an
// imported log) are the training traces: the detectors learn from the
// first 80% of them as they are, unlabelled. The threshold of each
// detector is the one with the best F1 on the other 20%, into which
// share anomalies are injected (the injector's own labels, on training
// data; under the novel protocol an injection is drawn again when its
// path is one of the training traces'). The remaining third of the log,
// with anomalies injected into share of it by another draw (under the
// novel protocol, never the path of a trace of the log), is scored at
// that threshold: its labels are used only to count the F1.
func Evaluate(traces [][]int, acts int, share float64, o Options) *Report {
	n := len(traces)
	nTrain := int(TrainShare * float64(n))
	nFit := nTrain - int(validShare*float64(nTrain))
	fit, valid, test := traces[:nFit], traces[nFit:nTrain], traces[nTrain:]
	a := acts + 1 // insert may add an unseen activity
	rng := rand.New(rand.NewPCG(o.Seed, 0x696e6a))
	vPlain, vPlainL := Inject(valid, a, share, rng)
	tPlain, tPlainL := Inject(test, a, share, rng)
	rng = rand.New(rand.NewPCG(o.Seed, 0x6e6f76))
	vNovel, vNovelL := InjectNovel(valid, a, share, KnownPaths(traces[:nTrain]), rng)
	logPaths := KnownPaths(traces)
	tNovel, tNovelL := InjectNovel(test, a, share, logPaths, rng)
	r := &Report{Traces: n, Train: nTrain, Test: len(test)}
	ae := TrainAutoencoder(fit, a, o)
	ng := TrainNGram(fit, a)
	for _, p := range []struct {
		res    *Result
		proto  Protocol
		v, t   [][]int
		vl, tl []Kind
	}{{&r.Plain, Plain, vPlain, tPlain, vPlainL, tPlainL}, {&r.Novel, Novel, vNovel, tNovel, vNovelL, tNovelL}} {
		res := p.res
		res.Protocol = p.proto
		res.Kinds = make([]KindResult, len(Kinds))
		for j, k := range Kinds {
			res.Kinds[j].Kind = k
		}
		for i, l := range p.tl {
			if l != Normal {
				res.Anomalous++
				kr := &res.Kinds[slices.Index(Kinds, l)]
				kr.Injected++
				if logPaths[key(p.t[i])] {
					kr.NormalPath++
				}
			}
		}
		for _, d := range []struct {
			score func([][]int) []float64
			s     *Score
			found func(*KindResult) *int
		}{
			{ae.Score, &res.AE, func(k *KindResult) *int { return &k.AEFound }},
			{ng.Score, &res.NGram, func(k *KindResult) *int { return &k.NGramFound }},
		} {
			th := BestThreshold(d.score(p.v), p.vl)
			scores := d.score(p.t)
			d.s.Threshold = th
			d.s.Precision, d.s.Recall, d.s.F1 = F1(scores, th, p.tl)
			d.s.Best = BestF1(scores, p.tl)
			for i, l := range p.tl {
				if l != Normal && scores[i] > th {
					*d.found(&res.Kinds[slices.Index(Kinds, l)])++
				}
			}
		}
	}
	return r
}

// Print writes the report: each protocol's F1 for both detectors, and
// the anomalies of each kind, how many have a normal path and how many
// each detector flags.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "%d traces: %d to train on (the last fifth of them with injected anomalies to choose each threshold on), %d held out, %d of those with an injected anomaly\n", r.Traces, r.Train, r.Test, r.Plain.Anomalous)
	for _, res := range []*Result{&r.Novel, &r.Plain} {
		normal := 0
		for _, k := range res.Kinds {
			normal += k.NormalPath
		}
		switch res.Protocol {
		case Novel:
			fmt.Fprintf(w, "novel protocol (an injection giving the path of a normal trace of the log is drawn again): %d anomalous\n", res.Anomalous)
		default:
			fmt.Fprintf(w, "plain protocol (every injection kept): %d anomalous, %d of them with the path of a normal trace of the log\n", res.Anomalous, normal)
		}
		for _, d := range []struct {
			name string
			s    Score
		}{{"autoencoder", res.AE}, {"trigram    ", res.NGram}} {
			fmt.Fprintf(w, "%s  F1 %.3f (precision %.3f, recall %.3f; best threshold in hindsight %.3f)\n", d.name, d.s.F1, d.s.Precision, d.s.Recall, d.s.Best)
		}
		tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "  kind\tinjected\tnormal path\tautoencoder found\ttrigram found\t\n")
		for _, k := range res.Kinds {
			fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t\n", k.Kind, k.Injected, k.NormalPath, k.AEFound, k.NGramFound)
		}
		tw.Flush()
	}
}
