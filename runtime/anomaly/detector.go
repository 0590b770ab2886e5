// This file implements the detector: the scores that judge a case, and
// the weights and threshold that make one score of them.

package anomaly

// Parts names the scores of the detector, in the order of the weights
// [ChooseWeights] returns for them.
var Parts = []string{"autoencoders", "durations", "next event", "deviation"}

// markovOrder is the longest history of the next-event model: tried 1
// to 4 on the training two thirds of the shared logs, 2 separated best
// (order 3 a little worse on receipt and repair).
const markovOrder = 2

// detector is what knhk cases --anomalies and [EvaluateTimed] score a
// case with: the autoencoders ([AE], durations among their features
// when the log has times and enough paths), the gaps of its steps
// ([Durations]), the likelihood of each next event given the two before
// it ([Markov]) and how likely its path is as one deviation from the
// usual ones rather than a path of its own ([Deviations]).
type detector struct {
	ae   *AE
	dur  *Durations
	next *Markov
	dev  *Deviations
}

// trainDetector trains every score on traces (times nil for none), as
// they are, unlabelled.
func trainDetector(traces [][]int, times [][]float64, acts int, o Options) *detector {
	ae := TrainAutoencoderTimed(traces, times, acts, o)
	return &detector{
		ae:   ae,
		dur:  ae.durations(traces, times),
		next: TrainMarkov(traces, acts, markovOrder),
		dev:  TrainDeviations(traces, acts),
	}
}

// parts returns each score of traces, in the order of [Parts].
func (d *detector) parts(traces [][]int, times [][]float64) [][]float64 {
	return [][]float64{d.ae.ScoreTimed(traces, times), d.dur.Score(traces, times), d.next.Score(traces), d.dev.Score(traces)}
}
