// This file implements the prediction and the anomaly score of one
// stored case, shared by knhk predict CASE, knhk cases --anomalies and
// the std/mining tasks a workflow calls (through [dataMiner]).

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/knhk/knhk/runtime/anomaly"
	"github.com/knhk/knhk/runtime/export"
	"github.com/knhk/knhk/runtime/predict"
	"github.com/knhk/knhk/runtime/worker"
)

// predicted is a case's prediction with what it was made from.
type predicted struct {
	id, workflow string
	events       int // completed steps the prediction starts from
	pr           predict.Prediction
	level        float64
	trainedOn    int
}

// trainAndPredict trains on the completed cases of target's workflow in
// cases (every one but target) and predicts run, target's completions.
func trainAndPredict(cases []minedCase, target minedCase, run export.Trace, mo predict.Options) (*predicted, error) {
	id, wf := target.row.ID, target.row.Workflow
	train := completedOf(cases, wf, id)
	d, err := predict.FromLog(train, 5)
	if err != nil {
		return nil, fmt.Errorf("workflow %s: %d completed cases: %w", wf, len(train.Traces), err)
	}
	m, err := predict.Train(d.Names, d.Cases, mo)
	if err != nil {
		return nil, fmt.Errorf("workflow %s: %w", wf, err)
	}
	pr, k, err := m.PredictTrace(run)
	if err != nil {
		return nil, fmt.Errorf("case %s: %w", id, err)
	}
	return &predicted{id: id, workflow: wf, events: k, pr: pr, level: m.Level, trainedOn: len(d.Cases)}, nil
}

func (p *predicted) json() casePrediction {
	r := func(d time.Duration) string { return d.Round(time.Second).String() }
	return casePrediction{Case: p.id, Workflow: p.workflow, Events: p.events, Next: p.pr.Next, NextProb: p.pr.NextProb,
		Remaining: r(p.pr.Remaining), Low: r(p.pr.Low), High: r(p.pr.High), Level: p.level, TrainCases: p.trainedOn}
}

// errTooFewCases says a workflow has too few cases to score.
var errTooFewCases = errors.New("too few to learn what is usual")

// anomalyScores scores each of cases (all of one workflow) with the
// autoencoder and the durations of its steps (anomaly.ScoreLog) and
// returns the scores and the threshold above which a case is unusual.
func anomalyScores(cases []minedCase) ([]float64, float64, error) {
	if len(cases) < minAnomalyCases {
		return nil, 0, fmt.Errorf("%d cases, %w (want %d)", len(cases), errTooFewCases, minAnomalyCases)
	}
	l := &export.Log{}
	for _, c := range cases {
		l.Traces = append(l.Traces, completions(c.trace))
	}
	scores := anomaly.ScoreLog(l, anomaly.Options{Seed: 1})
	return scores, anomaly.Threshold(scores, anomaly.DefaultContamination), nil
}

// dataMiner answers std/mining's tasks from a data directory. Each call
// reads the directory afresh, so a query sees every case stored before
// it, its own case's steps so far included.
type dataMiner struct{ data string }

var _ worker.Miner = dataMiner{}

func (m dataMiner) Predict(_ context.Context, id string) (worker.Prediction, error) {
	// The saved model when it is fresh, as knhk predict CASE; why one is
	// passed over goes to the process's stderr (the run's or the
	// server's), where knhk predict would print it.
	p, err := predictSavedCase(os.Stderr, m.data, id, predict.Options{Seed: 1})
	if err != nil {
		return worker.Prediction{}, err
	}
	return worker.Prediction{Next: p.pr.Next, Probability: p.pr.NextProb, Remaining: p.pr.Remaining,
		Low: p.pr.Low, High: p.pr.High, TrainedOn: p.trainedOn}, nil
}

func (m dataMiner) Anomaly(_ context.Context, id string) (worker.Anomaly, error) {
	cases, err := mineData(m.data)
	if err != nil {
		return worker.Anomaly{}, err
	}
	wf, found := "", false
	for _, c := range cases {
		if c.row.ID == id {
			wf, found = c.row.Workflow, true
		}
	}
	if !found {
		return worker.Anomaly{}, fmt.Errorf("unknown case %s in %s", id, m.data)
	}
	var same []minedCase
	at := 0
	for _, c := range cases {
		if c.row.Workflow == wf {
			if c.row.ID == id {
				at = len(same)
			}
			same = append(same, c)
		}
	}
	scores, th, err := anomalyScores(same)
	if err != nil {
		return worker.Anomaly{}, fmt.Errorf("workflow %s: %w", wf, err)
	}
	return worker.Anomaly{Score: scores[at], Unusual: scores[at] > th}, nil
}
