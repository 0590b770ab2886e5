// This file implements scoring the cases of a log as knhk cases
// --anomalies does: nothing labelled, nothing held out.

package anomaly

import (
	"math/rand/v2"

	"github.com/knhk/knhk/runtime/export"
)

// ScoreLog scores every case of l (in the order of l.Traces) by the
// detector of [EvaluateTimed]: the autoencoders, the duration model and
// the trigram learn from the cases themselves, and the weights of the
// duration score and the trigram's ([Combine]) are the ones with the
// best F1 on a copy of the cases with DefaultContamination of them
// given an injected anomaly (the injector's labels: the only labels
// there are). Flag the cases above [Threshold] of the scores.
func ScoreLog(l *export.Log, o Options) []float64 {
	traces, times, names := TimedTraces(l)
	a := len(names) + 1
	ae := TrainAutoencoderTimed(traces, times, a, o)
	aeS := ae.ScoreTimed(traces, times)
	dur := ae.durations(traces, times)
	ng := TrainNGram(traces, a)
	rng := rand.New(rand.NewPCG(o.Seed, 0x776569))
	it, itT, labels := InjectTimed(traces, times, a, DefaultContamination, nil, rng)
	w := ChooseWeights(ae.ScoreTimed(it, itT), [][]float64{dur.Score(it, itT), ng.Score(it)}, labels)
	return Combine(aeS, [][]float64{dur.Score(traces, times), ng.Score(traces)}, w)
}
