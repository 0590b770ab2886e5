// This file implements saving prediction models in the data directory
// (knhk predict --save) and using them for knhk predict CASE, so that a
// prediction need not retrain on every call. Only --save writes: knhk
// predict CASE stays a read command (it works on a read-only copy and
// beside running cases) and trains in memory when no usable model is
// saved.

package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"

	"github.com/knhk/knhk/runtime/export"
	"github.com/knhk/knhk/runtime/predict"
)

// savableName is a workflow name that can name a file.
var savableName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// modelPath is where the model of a workflow is saved; "" when the
// workflow's name cannot name a file.
func modelPath(data, workflow string) string {
	if !savableName.MatchString(workflow) {
		return ""
	}
	return filepath.Join(data, "predict", workflow+".model")
}

// completedOf returns the completed cases of workflow, in the order the
// cases started, leaving out the case skip.
func completedOf(cases []minedCase, workflow, skip string) *export.Log {
	l := &export.Log{}
	for _, c := range cases {
		if completedIn(c, workflow) && c.row.ID != skip {
			l.Traces = append(l.Traces, completions(c.trace))
		}
	}
	return l
}

// completedIn reports whether c is a completed case of workflow.
func completedIn(c minedCase, workflow string) bool {
	return c.row.Status == "completed" && c.row.Workflow == workflow
}

// completedCount is how many completed cases workflow has: the count a
// saved model is judged by, without copying their events as
// completedOf would.
func completedCount(cases []minedCase, workflow string) int {
	n := 0
	for _, c := range cases {
		if completedIn(c, workflow) {
			n++
		}
	}
	return n
}

func runPredictSave(e *env, o *predictOptions) int {
	if o.steps < 0 {
		return usageError(e, "--steps %d is negative", o.steps)
	}
	cases, err := mineData(o.data)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	latest := map[string]string{} // workflow -> descriptor of its latest case
	for _, c := range cases {
		latest[c.row.Workflow] = c.row.Descriptor
	}
	names := make([]string, 0, len(latest))
	for wf := range latest {
		names = append(names, wf)
	}
	slices.Sort(names)
	saved := 0
	for _, wf := range names {
		path := modelPath(o.data, wf)
		if path == "" {
			fmt.Fprintf(e.stderr, "knhk: workflow %q: skipped: its name cannot name a file\n", wf)
			continue
		}
		train := completedOf(cases, wf, "")
		d, err := predict.FromLog(train, 5)
		if err == nil {
			var m *predict.Model
			if m, err = predict.Train(d.Names, d.Cases, o.model()); err == nil {
				err = predict.SaveFile(path, &predict.Saved{Descriptor: latest[wf], Cases: len(train.Traces), Model: m})
			}
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: workflow %s: %d completed cases: skipped: %v\n", wf, len(train.Traces), err)
			continue
		}
		saved++
		fmt.Fprintf(e.stdout, "saved %s: workflow %s, descriptor %s, %d completed cases\n", path, wf, latest[wf], len(train.Traces))
	}
	if saved == 0 {
		fmt.Fprintf(e.stderr, "knhk: no workflow in %s has enough completed cases to learn from; nothing saved\n", o.data)
		return exitUser
	}
	return exitOK
}

// predictSavedCase predicts for case id with the model saved for its
// workflow when that model is usable, and otherwise by training in
// memory on the workflow's other completed cases, saying on warn why a
// saved model was passed over; it never writes. knhk predict CASE and
// the query mining.predict both answer through it, so a workflow that
// asks gets the same answer as the command and is spared the training
// while a fresh model is saved.
func predictSavedCase(warn io.Writer, data, id string, mo predict.Options) (*predicted, error) {
	cases, err := mineData(data)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(cases, func(c minedCase) bool { return c.row.ID == id })
	if i < 0 {
		return nil, fmt.Errorf("unknown case %s in %s", id, data)
	}
	target := cases[i]
	run := completions(target.trace)
	if len(run.Events) == 0 {
		return nil, fmt.Errorf("case %s has no completed step yet: nothing to predict from", id)
	}
	wf := target.row.Workflow
	if path := modelPath(data, wf); path != "" {
		s, err := predict.LoadFile(path)
		why := ""
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			why = err.Error()
		default:
			var ok bool
			if ok, why = s.Usable(target.row.Descriptor, completedCount(cases, wf)); ok {
				pr, k, err := s.Model.PredictTrace(run)
				if err == nil {
					return &predicted{id: id, workflow: wf, events: k, pr: pr, level: s.Model.Level, trainedOn: s.Cases}, nil
				}
				why = err.Error()
			}
		}
		if why != "" {
			fmt.Fprintf(warn, "knhk: not using the saved model %s: %s; training in memory (knhk predict --save --data %s saves a new one)\n", path, why, data)
		}
	}
	// Train in memory, without reading the data directory again.
	return trainAndPredict(cases, target, run, mo)
}
