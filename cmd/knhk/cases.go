// This file implements "knhk cases": the cases of a data directory with
// their status.

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/knhk/knhk/runtime/engine"
)

var casesCmd = &command{
	name:      "cases",
	usageLine: "knhk cases [--data DIR] [--json]",
	short:     "list the cases of a data directory",
	long: `Cases lists the cases in the data directory (--data, default ./.knhk), in
the order they started: case id, status, workflow, start time (UTC) and
the hash of the compiled descriptor the case runs on. The status is
running, waiting (for a signal), completed, failing, failed or
cancelled, as of the last event in the log; cases lists without running
anything, so a timer that has come due shows only once a command such as
knhk signal resumes the case. A case whose descriptor is missing is
listed with status unknown.

With --json it prints a JSON array of objects with the members id,
status, workflow, started and descriptor, plus waiting (the signals it
waits for) and error (why it failed) when they apply.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		data := fs.String("data", ".knhk", "the data `DIR` to list")
		asJSON := fs.Bool("json", false, "print JSON")
		return func(e *env, args []string) int { return runCases(e, *data, *asJSON, args) }
	},
}

// caseRow is one line of knhk cases.
type caseRow struct {
	ID         string   `json:"id"`
	Status     string   `json:"status"`
	Workflow   string   `json:"workflow"`
	Started    string   `json:"started"`
	Descriptor string   `json:"descriptor"`
	Waiting    []string `json:"waiting,omitempty"`
	Error      string   `json:"error,omitempty"`
}

func runCases(e *env, data string, asJSON bool, args []string) int {
	if len(args) != 0 {
		return usageError(e, "want no arguments, got %d", len(args))
	}
	d, err := openData(context.Background(), data)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	defer d.close()
	cases, err := d.all()
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	rows := make([]caseRow, 0, len(cases))
	for _, c := range cases {
		rows = append(rows, describeCase(c))
	}
	if asJSON {
		b, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: internal error: %v\n", err)
			return exitInternal
		}
		fmt.Fprintf(e.stdout, "%s\n", b)
		return exitOK
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "CASE\tSTATUS\tWORKFLOW\tSTARTED\tDESCRIPTOR\n")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Status, r.Workflow, r.Started, r.Descriptor)
	}
	tw.Flush()
	return exitOK
}

// describeCase summarises c without running it.
func describeCase(c *caseLog) caseRow {
	r := caseRow{ID: c.id, Status: "unknown", Workflow: "-", Started: "-", Descriptor: "-"}
	if len(c.events) > 0 && c.events[0].Kind == engine.EvStart {
		r.Started = time.Unix(0, c.events[0].Time).UTC().Format(time.RFC3339)
	}
	if c.meta != nil {
		r.Workflow, r.Descriptor = c.meta.Workflow, c.meta.Descriptor
	}
	s, err := c.state()
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.Status = s.Status.String()
	r.Error = s.Error
	if s.Status == engine.Running {
		if r.Waiting = waits(c.prog, s); len(r.Waiting) > 0 {
			r.Status = "waiting"
		}
	}
	return r
}
