// Package anomaly finds unusual cases in an event log: autoencoders
// (runtime/predict/nn) learn to reconstruct the feature vectors of the
// distinct cases (how often each activity occurs, which activity
// directly follows which, how a case starts and ends, its length, how
// many of its steps were never seen, and, when the log has times, how
// long the case took and how unusual its least likely gap between two
// events is) and, event by event, each activity
// from the two activities either side of it; a case they reconstruct
// badly scores high. Three counting models add their own scores: how
// unusual the gap between each two consecutive events is for that step
// ([Durations]), how unlikely each next event is given the two before
// it ([Markov], the next-event likelihood of BINet), and how much
// likelier the case's path is as one deviation from the training
// paths than as a path of its own ([Deviations]). The detector's score
// is the largest of the four, each at a weight chosen on anomalies
// injected into training cases ([ChooseWeights]; a weight of 0 leaves a
// score out, and on some logs the autoencoders get none). Beside this
// detector, the n-gram baseline scores a case by its least likely step
// under the smoothed trigram model alone, and the autoencoders alone
// are scored too, so that every evaluation shows what the rest adds;
// [SequenceCap] says how far any detector of the activity sequence
// could go.
//
// In knhk cases --anomalies they learn from the log as it is,
// anomalies included: nothing is labelled, and the cases with the
// highest scores are flagged, as many as the expected share of
// anomalies (the contamination, default 10%; [Threshold]). [Evaluate]
// scores them on held-out cases instead: they learn from the first part
// of a log, each threshold is chosen on training cases with injected
// anomalies ([BestThreshold]), and the F1 is counted on the last third
// with its own injected anomalies, whose labels they never see.
//
// [InjectTimed] sets the times of injected events as a real case would
// have them (the log's clock, its weekly rhythm, gaps it has), so that
// no artefact of the injector gives an anomaly away.
//
// [Inject] makes the evaluation data: it changes a share of the traces
// with the six kinds of anomaly of Nolle et al. (BINet, 2018): skip (an
// event removed), insert (a random activity added), rework (a run of
// events repeated), swap (two neighbours exchanged), early and late (an
// event moved two or more places earlier or later in the sequence, not
// in time), and labels them. [InjectNovel] does the same under the
// novel protocol: an injection whose activity sequence a normal trace
// of the log follows is drawn again, since no detector of the sequence
// can tell it from that normal trace. [Evaluate] reports both
// protocols, and each kind's count, normal paths and finds.
package anomaly
