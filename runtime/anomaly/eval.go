// This file implements the evaluation on a log with injected anomalies.

package anomaly

import (
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
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
		evs := sortedEvents(t.Events)
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

// sortedEvents returns a copy of evs in time order (stable).
func sortedEvents(evs []export.Event) []export.Event {
	evs = slices.Clone(evs)
	slices.SortStableFunc(evs, func(a, b export.Event) int { return a.Time.Compare(b.Time) })
	return evs
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

// Result is the detectors' scores under one protocol.
type Result struct {
	Protocol Protocol
	// Anomalous is how many held-out traces have an injected anomaly.
	Anomalous int
	// AE is the detector: its scores ([Parts]) at the weights chosen
	// on the training traces ([Combine]); Flow is the autoencoders
	// alone (their case features hold the durations when the log has
	// times); NGram the trigram baseline.
	AE, Flow, NGram Score
	// SequenceCap is the best F1 any detector that reads only the
	// activity sequence could reach on these held-out traces, even one
	// chosen in hindsight ([SequenceCap]): below 1 when some anomalies
	// have the path of normal held-out traces.
	SequenceCap float64
	// Kinds breaks the anomalies down by kind, in the order of [Kinds].
	Kinds []KindResult
}

// KindResult counts one kind of anomaly among the held-out traces.
type KindResult struct {
	Kind     Kind
	Injected int
	// NormalPath is how many of them have the path of a normal trace of
	// the log (none under the novel protocol): no detector of the
	// activity sequence can flag those; only their times can tell.
	NormalPath int
	// Found is how many each detector flags; NormalPathFound how many
	// of the normal-path ones the detector (AE) flags.
	AEFound, FlowFound, NGramFound, NormalPathFound int
}

// Score is one detector's result on the held-out traces.
type Score struct {
	Threshold float64 // chosen on the training traces
	// Weights are the weights of the detector's scores (in the order
	// of [Parts]), chosen on the training injections (nil for the
	// others).
	Weights               []float64
	Precision, Recall, F1 float64
	Best                  float64 // F1 of the best threshold in hindsight
}

// DefaultContamination is the share of cases flagged by knhk cases
// --anomalies, where no labelled data exists to choose a threshold.
const DefaultContamination = 0.1

// TrainShare is the share of a log's traces, the first in its order,
// that the detectors learn from in [Evaluate]; the rest are held out.
const TrainShare = 2.0 / 3

// validDraws is how many injections into the training fifth the
// thresholds and weights are chosen on together.
const validDraws = 5

// validShare is the share of the training traces, the last of them,
// held back from the networks to choose the threshold on.
const validShare = 0.2

// Evaluate is [EvaluateTimed] without times: activities only.
func Evaluate(traces [][]int, acts int, share float64, o Options) *Report {
	return EvaluateTimed(traces, nil, acts, share, o)
}

// EvaluateTimed scores the detectors on held-out traces, under both
// protocols. The first TrainShare of the traces (chronological for an
// imported log) are the training traces: the detectors learn from the
// first 80% of them as they are, unlabelled. The other 20% get
// validDraws independent injections of anomalies into share of them
// (the injector's own labels, on training data; under the novel
// protocol an injection is drawn again when its path is one of the
// training traces'); on those, the weights of the duration score and of
// the trigram's in the detector's score are chosen (both protocols'
// injections together), then each detector's threshold (each
// protocol's), by the best F1. The remaining third of the log, with
// anomalies injected into share of it by other draws (under the novel
// protocol, never the path of a trace of the log), is scored at those
// weights and thresholds: its labels are used only to count the F1.
// times (seconds, parallel to traces) may be nil: the duration score is
// then zero.
func EvaluateTimed(traces [][]int, times [][]float64, acts int, share float64, o Options) *Report {
	n := len(traces)
	nTrain := int(TrainShare * float64(n))
	nFit := nTrain - int(validShare*float64(nTrain))
	part := func(lo, hi int) [][]float64 {
		if times == nil {
			return nil
		}
		return times[lo:hi]
	}
	fit, valid, test := traces[:nFit], traces[nFit:nTrain], traces[nTrain:]
	a := acts + 1 // insert may add an unseen activity
	// The held-out third's injections draw from their own streams, so
	// that nothing chosen on the training traces changes them.
	rng := rand.New(rand.NewPCG(o.Seed, 0x696e6a))
	tPlain, tPlainT, tPlainL := InjectTimed(test, part(nTrain, n), a, share, nil, rng)
	rng = rand.New(rand.NewPCG(o.Seed, 0x6e6f76))
	logPaths := KnownPaths(traces)
	tNovel, tNovelT, tNovelL := InjectTimed(test, part(nTrain, n), a, share, logPaths, rng)
	// The training fifth gets validDraws independent injections, each
	// into share of its traces, side by side: one draw has a few dozen
	// anomalies, and a threshold or a weight chosen on it follows which
	// traces that draw happened to change.
	var vPlain, vNovel [][]int
	var vPlainT, vNovelT [][]float64
	var vPlainL, vNovelL []Kind
	trainPaths := KnownPaths(traces[:nTrain])
	rng = rand.New(rand.NewPCG(o.Seed, 0x76616c))
	for range validDraws {
		v, vt, vl := InjectTimed(valid, part(nFit, nTrain), a, share, nil, rng)
		vPlain, vPlainT, vPlainL = append(vPlain, v...), append(vPlainT, vt...), append(vPlainL, vl...)
		v, vt, vl = InjectTimed(valid, part(nFit, nTrain), a, share, trainPaths, rng)
		vNovel, vNovelT, vNovelL = append(vNovel, v...), append(vNovelT, vt...), append(vNovelL, vl...)
	}
	r := &Report{Traces: n, Train: nTrain, Test: len(test)}
	det := trainDetector(fit, part(0, nFit), a, o)
	ng := TrainNGram(fit, a)
	// One set of weights for both protocols, chosen on both sets of
	// training injections together: each alone has a few dozen
	// anomalies, and weights picked on one of them follow its noise.
	vpP, vpN := det.parts(vPlain, vPlainT), det.parts(vNovel, vNovelT)
	both := make([][]float64, len(vpP))
	for k := range vpP {
		both[k] = slices.Concat(vpP[k], vpN[k])
	}
	w := ChooseWeights(both, slices.Concat(vPlainL, vNovelL))

	for _, p := range []struct {
		res    *Result
		proto  Protocol
		vp     [][]float64
		v, t   [][]int
		tt     [][]float64
		vl, tl []Kind
	}{{&r.Plain, Plain, vpP, vPlain, tPlain, tPlainT, vPlainL, tPlainL}, {&r.Novel, Novel, vpN, vNovel, tNovel, tNovelT, vNovelL, tNovelL}} {
		res := p.res
		res.Protocol = p.proto
		res.SequenceCap = SequenceCap(p.t, p.tl)
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
		tp := det.parts(p.t, p.tt)
		for _, d := range []struct {
			v, t  []float64
			w     []float64
			s     *Score
			found func(*KindResult) *int
		}{
			{Combine(p.vp, w), Combine(tp, w), w, &res.AE, func(k *KindResult) *int { return &k.AEFound }},
			{p.vp[0], tp[0], nil, &res.Flow, func(k *KindResult) *int { return &k.FlowFound }},
			{ng.Score(p.v), ng.Score(p.t), nil, &res.NGram, func(k *KindResult) *int { return &k.NGramFound }},
		} {
			v, t := d.v, d.t
			d.s.Weights = d.w
			th := BestThreshold(v, p.vl)
			d.s.Threshold = th
			d.s.Precision, d.s.Recall, d.s.F1 = F1(t, th, p.tl)
			d.s.Best = BestF1(t, p.tl)
			for i, l := range p.tl {
				if l != Normal && t[i] > th {
					*d.found(&res.Kinds[slices.Index(Kinds, l)])++
					if d.s == &res.AE && logPaths[key(p.t[i])] {
						res.Kinds[slices.Index(Kinds, l)].NormalPathFound++
					}
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
			note string
		}{
			{"detector   ", res.AE, "; weights " + weightList(res.AE.Weights)},
			{"  autoencoders alone", res.Flow, ""},
			{"trigram    ", res.NGram, ""},
		} {
			fmt.Fprintf(w, "%s  F1 %.3f (precision %.3f, recall %.3f; best threshold in hindsight %.3f)%s\n", d.name, d.s.F1, d.s.Precision, d.s.Recall, d.s.Best, d.note)
		}
		fmt.Fprintf(w, "best F1 of any detector of the activity sequence, in hindsight: %.3f\n", res.SequenceCap)
		tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "  kind\tinjected\tnormal path\tdetector found\tof them normal path\tautoencoders alone\ttrigram found\t\n")
		for _, k := range res.Kinds {
			fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t%d\t%d\t\n", k.Kind, k.Injected, k.NormalPath, k.AEFound, k.NormalPathFound, k.FlowFound, k.NGramFound)
		}
		tw.Flush()
	}
}

// weightList names each of the detector's weights.
func weightList(w []float64) string {
	var b strings.Builder
	for k, x := range w {
		if k > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %g", Parts[k], x)
	}
	return b.String()
}
