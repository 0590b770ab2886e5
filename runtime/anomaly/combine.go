// This file implements the rule that adds the duration score to the
// autoencoder's, and the choice of its weight.

package anomaly

// Weights are the duration score's weights [ChooseWeight] tries: 0 (the
// autoencoder alone) up to a weight at which the durations dominate.
var Weights = []float64{0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 1.5, 2, 3, 5}

// Combine returns ae + w·dur, each trace's score of the detector.
func Combine(ae, dur []float64, w float64) []float64 {
	out := make([]float64, len(ae))
	for i := range ae {
		out[i] = ae[i] + w*dur[i]
	}
	return out
}

// ChooseWeight returns the weight of [Weights] whose combined score has
// the best F1 at its best threshold on labelled scores: in
// [EvaluateTimed] those of anomalies injected into training traces,
// never the held-out ones. Of equal F1s the smallest weight wins.
func ChooseWeight(ae, dur []float64, labels []Kind) float64 {
	best, bestF := 0.0, -1.0
	for _, w := range Weights {
		if f := BestF1(Combine(ae, dur, w), labels); f > bestF {
			best, bestF = w, f
		}
	}
	return best
}
