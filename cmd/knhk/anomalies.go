// This file implements "knhk cases --anomalies": the cases listed with
// how unusual their path through the workflow is.

package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"text/tabwriter"
)

// minAnomalyCases is how many cases a workflow needs before its usual
// paths can be told from unusual ones.
const minAnomalyCases = 10

// anomalyRow is a line of knhk cases --anomalies.
type anomalyRow struct {
	caseRow
	Score     *float64 `json:"anomalyScore,omitempty"`
	Anomalous bool     `json:"anomalous"`
}

// runCasesAnomalies lists the cases as knhk cases does, with the
// autoencoder's score of each case's steps among the cases of its
// workflow and a flag on the highest tenth.
func runCasesAnomalies(e *env, data string, asJSON bool, args []string) int {
	if len(args) != 0 {
		return usageError(e, "want no arguments, got %d", len(args))
	}
	cases, err := mineData(data)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	byWF := map[string][]int{}
	for i, c := range cases {
		byWF[c.row.Workflow] = append(byWF[c.row.Workflow], i)
	}
	rows := make([]anomalyRow, len(cases))
	for i, c := range cases {
		rows[i].caseRow = c.row
	}
	wfs := make([]string, 0, len(byWF))
	for wf := range byWF {
		wfs = append(wfs, wf)
	}
	sort.Strings(wfs)
	for _, wf := range wfs {
		idx := byWF[wf]
		same := make([]minedCase, len(idx))
		for j, i := range idx {
			same[j] = cases[i]
		}
		scores, th, err := anomalyScores(same)
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: workflow %s: %v; not scored\n", wf, err)
			continue
		}
		for j, i := range idx {
			s := scores[j]
			rows[i].Score = &s
			rows[i].Anomalous = s > th
		}
	}
	if asJSON {
		b, _ := json.MarshalIndent(rows, "", "  ")
		fmt.Fprintf(e.stdout, "%s\n", b)
		return exitOK
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "CASE\tSTATUS\tWORKFLOW\tSTARTED\tSCORE\tANOMALY\n")
	for _, r := range rows {
		score, flag := "-", ""
		if r.Score != nil {
			score = fmt.Sprintf("%.3g", *r.Score)
		}
		if r.Anomalous {
			flag = "unusual"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Status, r.Workflow, r.Started, score, flag)
	}
	tw.Flush()
	return exitOK
}
