// This file implements scoring the cases of a log as knhk cases
// --anomalies does: nothing labelled, nothing held out.

package anomaly

import (
	"math/rand/v2"

	"github.com/knhk/knhk/runtime/export"
)

// ScoreLog scores every case of l (in the order of l.Traces) by the
// detector of [EvaluateTimed]: its scores ([Parts]) learn from the
// cases themselves, and their weights ([Combine]) are the ones with the
// best F1 on a copy of the cases with DefaultContamination of them
// given an injected anomaly (the injector's labels: the only labels
// there are). Flag the cases above [Threshold] of the scores.
func ScoreLog(l *export.Log, o Options) []float64 {
	traces, times, names := TimedTraces(l)
	a := len(names) + 1
	det := trainDetector(traces, times, a, o)
	rng := rand.New(rand.NewPCG(o.Seed, 0x776569))
	it, itT, labels := InjectTimed(traces, times, a, DefaultContamination, nil, rng)
	w := ChooseWeights(det.parts(it, itT), labels)
	return Combine(det.parts(traces, times), w)
}
