// This file implements "knhk predict": the next activity and remaining
// time of a running case, learned from the cases before it, and the
// evaluation of the predictor on an imported log.

package main

import (
	"encoding/json"
	"flag"
	"fmt"

	"github.com/knhk/knhk/runtime/anomaly"
	"github.com/knhk/knhk/runtime/eventlog"
	"github.com/knhk/knhk/runtime/export"
	"github.com/knhk/knhk/runtime/predict"
)

var predictCmd = &command{
	name:      "predict",
	usageLine: "knhk predict [--data DIR] [--json] CASE | knhk predict --save [--data DIR] | knhk predict --train LOG.xes|LOG.csv (--eval [--split F] | --anomalies) [--steps N] [--seed N]",
	short:     "predict a case's next activity and remaining time from the event log",
	long: `Predict says what a case will most likely do next and how long it has
left, with an interval, from models trained on the event log:
gradient-boosted trees (on gonum matrices) for the probabilities of the
next activity, and for the median and the 5% and 95% quantiles of the
remaining time, the interval widened by split conformal calibration on
the most recent training cases so that it covers 90% of cases like
them.

knhk predict [--data DIR] CASE trains on the completed cases of CASE's
workflow in the data directory (--data, default ./.knhk) and predicts
for CASE from its events so far (task completions, as knhk export
writes them). It needs at least 5 completed cases of the workflow
with more than one event. --json prints the prediction as JSON.
It only reads the data directory: it uses the model knhk predict --save
saved for the workflow when that model is for CASE's descriptor and
the workflow has at most 20% more completed cases than it was trained
on, and otherwise trains in memory (saying why on stderr when a saved
model is damaged, of another format version or stale).

knhk predict --save [--data DIR] trains a model on the completed cases
of each workflow in the data directory and saves it, for the
descriptor of the workflow's latest case, in DIR/predict/WORKFLOW.model
(written atomically; versioned and checksummed). Run it again as cases
complete, e.g. from cron.

knhk predict --train LOG --eval reads an event log (XES or CSV, gzip
too; see knhk discover for the CSV columns), splits its cases by start
time into the first 2/3 (--split) for training and the rest for
testing, trains, and prints the next-activity accuracy (over all
prefixes, and over those of 2 events or more as Tax et al. score), the
remaining-time mean absolute error (over every prefix but the whole
case) and the interval coverage on the test cases beside the baselines
measured in the same run: the majority next activity after the last
activity, and the median remaining time after the last activity. --steps sets the most boosting rounds per model
(default 1000; early stopping on held-out training cases picks fewer),
--seed the random seed.

knhk predict --train LOG --anomalies scores the anomaly detection of
knhk cases --anomalies on the log: the autoencoders, the durations of
the steps, a next-event model, a deviation score and a trigram baseline
learn from the first two thirds of the traces (chronological); the
weights of the detector's four scores, and each threshold, are chosen
on injected anomalies in the last fifth of those training traces; all
are scored on the held-out last third, 10% of it with one injected
anomaly each (skip, insert, rework, swap, early or late), the injected
events timed as a real case's would be. Two protocols are reported in
the same run: novel (an injection that gives the path of a normal trace
of the log is drawn again) and plain (every injection kept). For each:
trace-level precision, recall and F1 of the detector (with its
weights), of the autoencoders alone and of the trigram, the F1 of the
best threshold in hindsight, the best F1 any detector of the activity
sequence could reach in hindsight, and per kind of anomaly how many
were injected, how many have a normal path and how many each found.
--steps sets the autoencoders' training steps (default 2000).
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		var o predictOptions
		fs.StringVar(&o.data, "data", ".knhk", "the data `DIR` holding the cases")
		fs.BoolVar(&o.json, "json", false, "print the prediction as JSON")
		fs.StringVar(&o.train, "train", "", "train on the event log `LOG` instead of a data directory")
		fs.BoolVar(&o.eval, "eval", false, "with --train: score on the held-out cases")
		fs.BoolVar(&o.anomalies, "anomalies", false, "with --train: score anomaly detection on injected anomalies")
		fs.Float64Var(&o.split, "split", 2.0/3, "with --eval: the `F`raction of cases, by start time, to train on")
		fs.IntVar(&o.steps, "steps", 0, "most training rounds per model (default 1000 for --eval, 2000 for --anomalies)")
		fs.Uint64Var(&o.seed, "seed", 1, "random `seed`")
		fs.BoolVar(&o.save, "save", false, "train on the data directory's completed cases and save the models in DIR/predict")
		return func(e *env, args []string) int {
			if o.save {
				if o.train != "" || o.eval || o.anomalies || o.json {
					return usageError(e, "--save takes only --data, --steps and --seed")
				}
				if len(args) != 0 {
					return usageError(e, "--save takes no CASE")
				}
				return runPredictSave(e, &o)
			}
			if o.train != "" {
				if o.eval == o.anomalies {
					return usageError(e, "--train needs one of --eval and --anomalies (leave --train out to predict a case of the data directory)")
				}
				if len(args) != 0 {
					return usageError(e, "--train takes no CASE")
				}
				if o.anomalies {
					return runAnomalyEval(e, &o)
				}
				return runPredictEval(e, &o)
			}
			if o.eval || o.anomalies {
				return usageError(e, "--eval and --anomalies need --train LOG")
			}
			if len(args) != 1 {
				return usageError(e, "want exactly one CASE, got %d", len(args))
			}
			return runPredictCase(e, &o, args[0])
		}
	},
}

type predictOptions struct {
	data, train string
	json, eval  bool
	anomalies   bool
	save        bool
	split       float64
	steps       int
	seed        uint64
}

func (o *predictOptions) model() predict.Options {
	return predict.Options{Steps: o.steps, Seed: o.seed}
}

func runPredictEval(e *env, o *predictOptions) int {
	if o.split <= 0 || o.split >= 1 {
		return usageError(e, "--split %v is outside (0, 1)", o.split)
	}
	if o.steps < 0 {
		return usageError(e, "--steps %d is negative", o.steps)
	}
	l, err := eventlog.ReadFile(o.train)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	d, err := predict.FromLog(l, 5)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %s: %v\n", o.train, err)
		return exitUser
	}
	r, err := predict.Evaluate(d, o.split, o.model())
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %s: %v\n", o.train, err)
		return exitUser
	}
	r.Print(e.stdout)
	return exitOK
}

func runAnomalyEval(e *env, o *predictOptions) int {
	if o.steps < 0 {
		return usageError(e, "--steps %d is negative", o.steps)
	}
	l, err := eventlog.ReadFile(o.train)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	traces, times, names := anomaly.TimedTraces(l)
	if len(traces) < minAnomalyCases {
		fmt.Fprintf(e.stderr, "knhk: %s: %d traces, too few to learn what is usual (want %d)\n", o.train, len(traces), minAnomalyCases)
		return exitUser
	}
	r := anomaly.EvaluateTimed(traces, times, len(names), 0.1, anomaly.Options{Steps: o.steps, Seed: o.seed})
	r.Print(e.stdout)
	return exitOK
}

// casePrediction is the JSON form of a prediction.
type casePrediction struct {
	Case       string  `json:"case"`
	Workflow   string  `json:"workflow"`
	Events     int     `json:"events"`
	Next       string  `json:"next"` // "" for the end of the case
	NextProb   float64 `json:"nextProbability"`
	Remaining  string  `json:"remaining"`
	Low        string  `json:"low"`
	High       string  `json:"high"`
	Level      float64 `json:"level"`
	TrainCases int     `json:"trainedOn"`
}

func runPredictCase(e *env, o *predictOptions, id string) int {
	cp, err := predictSavedCase(e.stderr, o.data, id, o.model())
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	out := cp.json()
	if o.json {
		b, _ := json.MarshalIndent(out, "", "  ")
		fmt.Fprintf(e.stdout, "%s\n", b)
		return exitOK
	}
	next := fmt.Sprintf("%q", out.Next)
	if out.Next == "" {
		next = "the end of the case"
	}
	fmt.Fprintf(e.stdout, "case %s (%s), %d steps done\n", id, out.Workflow, out.Events)
	fmt.Fprintf(e.stdout, "next:      %s (probability %.2f)\n", next, out.NextProb)
	fmt.Fprintf(e.stdout, "remaining: %s (%.0f%% interval %s to %s)\n", out.Remaining, out.Level*100, out.Low, out.High)
	fmt.Fprintf(e.stdout, "trained on %d completed cases of %s\n", out.TrainCases, out.Workflow)
	return exitOK
}

// completions keeps the complete events of a trace: one per step done.
func completions(t export.Trace) export.Trace {
	out := export.Trace{Case: t.Case}
	for _, ev := range t.Events {
		if ev.Lifecycle != export.Start {
			out.Events = append(out.Events, ev)
		}
	}
	return out
}
