// This file implements scoring the cases of a log as knhk cases
// --anomalies does: nothing labelled, nothing held out.

package anomaly

import (
	"math/rand/v2"

	"github.com/knhk/knhk/runtime/export"
)

// ScoreLog scores every case of l (in the order of l.Traces) by the
// detector of [EvaluateTimed]: the autoencoder and the duration model
// learn from the cases themselves, and the duration score's weight is
// the one with the best F1 on a copy of the cases with
// DefaultContamination of them given an injected anomaly (the
// injector's labels: the only labels there are). Flag the cases above
// [Threshold] of the scores.
func ScoreLog(l *export.Log, o Options) []float64 {
	traces, times, names := TimedTraces(l)
	a := len(names) + 1
	ae := TrainAutoencoder(traces, a, o)
	aeS := ae.Score(traces)
	if times == nil {
		return aeS
	}
	dur := TrainDurations(traces, times)
	rng := rand.New(rand.NewPCG(o.Seed, 0x776569))
	it, itT, labels := InjectTimed(traces, times, a, DefaultContamination, nil, rng)
	w := ChooseWeight(ae.Score(it), dur.Score(it, itT), labels)
	return Combine(aeS, dur.Score(traces, times), w)
}
