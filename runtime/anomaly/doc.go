// Package anomaly finds unusual cases in an event log: autoencoders
// (runtime/predict/nn) learn to reconstruct the feature vectors of the
// distinct cases (how often each activity occurs, which activity
// directly follows which, how a case starts and ends, its length) and a
// case they reconstruct badly is flagged. Beside it, an n-gram baseline scores a
// case by its least likely step under the log's smoothed trigram model
// of activities, so that every evaluation shows what the network adds.
//
// Both learn from the log as it is, anomalies included: nothing is
// labelled. The cases with the highest scores are flagged, as many as
// the expected share of anomalies (the contamination, default 10%;
// [Threshold]). Rules that need no such share (median plus a multiple
// of the median absolute deviation, mean plus two deviations) were
// measured and flag far too many cases on logs where most cases follow
// a few variants, since the deviation of the scores is then near zero.
//
// [Inject] makes the evaluation data: it changes a share of the traces
// with the six kinds of anomaly of Nolle et al. (BINet, 2018): skip (an
// event removed), insert (a random activity added), rework (a run of
// events repeated), swap (two neighbours exchanged), early and late (an
// event moved two or more places earlier or later), and labels them.
package anomaly
