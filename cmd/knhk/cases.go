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
	"github.com/knhk/knhk/runtime/store"
)

var casesCmd = &command{
	name:      "cases",
	usageLine: "knhk cases [--data DIR] [--json] [--anomalies]",
	short:     "list the cases of a data directory",
	long: `Cases lists the cases in the data directory (--data, default ./.knhk), in
the order they started: case id, status, workflow, start time (UTC) and
the hash of the compiled descriptor the case runs on. The status is
running, waiting (for a signal), completed, failing, failed or
cancelled, as of the last event in the log; cases lists without running
anything, so a timer that has come due shows only once a command such as
knhk signal resumes the case. A case whose descriptor is missing is
listed with status unknown. A case whose records cannot be read back is
listed with status unreadable and reported on standard error, and cases
then exits with status 1; the other cases are listed as usual.

Cases only reads: it takes no lock and writes nothing, so it works while
other processes run cases in the same directory (it shows the log as it
was when it started) and on a read-only copy. It streams the log and
holds only the states of the cases being rebuilt.

With --json it prints a JSON array of objects with the members id,
status, workflow, started and descriptor, plus waiting (the signals it
waits for), error (why it failed) and compensation (for a case that is
compensation-failed: the compensation that failed, "task: why", which
knhk resume retries) when they apply.

With --anomalies autoencoders and counting models learn, for each
workflow with at least 10 cases, what its cases usually do (how often
each step happens, which step follows which, how long each step takes,
which paths are usual) and list each case with how badly it fits
(SCORE, anomalyScore in JSON) and the highest tenth as unusual
(anomalous). See docs/mining.md.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		data := fs.String("data", ".knhk", "the data `DIR` to list")
		asJSON := fs.Bool("json", false, "print JSON")
		anomalies := fs.Bool("anomalies", false, "score how unusual each case is and flag the unusual tenth")
		srv := serverFlag(fs)
		return func(e *env, args []string) int {
			if *anomalies {
				if *srv != "" {
					return usageError(e, "--anomalies reads a data directory; it does not work with --server")
				}
				return runCasesAnomalies(e, *data, *asJSON, args)
			}
			if *srv != "" {
				return remoteCases(e, *srv, *asJSON, args)
			}
			return runCases(e, *data, *asJSON, args)
		}
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
	// Compensation is, for a compensation-failed case, the compensation
	// that failed its last attempt: "task: why".
	Compensation string `json:"compensation,omitempty"`
}

func runCases(e *env, data string, asJSON bool, args []string) int {
	if len(args) != 0 {
		return usageError(e, "want no arguments, got %d", len(args))
	}
	d, err := openData(data, false)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	defer d.close()
	rows, bad, err := listCases(context.Background(), d)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	if asJSON {
		b, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: internal error: %v\n", err)
			return exitInternal
		}
		fmt.Fprintf(e.stdout, "%s\n", b)
	} else {
		tw := tabwriter.NewWriter(e.stdout, 0, 8, 2, ' ', 0)
		fmt.Fprintf(tw, "CASE\tSTATUS\tWORKFLOW\tSTARTED\tDESCRIPTOR\n")
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Status, r.Workflow, r.Started, r.Descriptor)
		}
		tw.Flush()
	}
	// An unreadable case is listed, and reported, without hiding the
	// others.
	for _, r := range bad {
		fmt.Fprintf(e.stderr, "knhk: case %s is unreadable: %s\n", r.ID, r.Error)
	}
	if len(bad) > 0 {
		return exitUser
	}
	return exitOK
}

// listCases summarises every case of d in one pass over the log after
// its index: a case's state is rebuilt from its latest snapshot on and
// dropped at its last record, so only cases whose records interleave are
// held at once. bad lists the rows of cases whose records could not be
// read or applied.
func listCases(ctx context.Context, d *dataDir) (rows, bad []caseRow, err error) {
	list, byID, err := d.index(ctx)
	if err != nil {
		return nil, nil, err
	}
	type live struct {
		c   *caseLog
		s   *engine.State
		row int
	}
	rows = make([]caseRow, len(list))
	open := map[string]*live{}
	failed := make([]bool, len(list))
	var from store.Position
	for i, x := range list {
		rows[i] = caseRow{ID: x.id, Status: "unknown", Workflow: "-", Started: "-", Descriptor: "-"}
		if x.start != 0 {
			rows[i].Started = time.Unix(0, x.start).UTC().Format(time.RFC3339)
		}
		p := x.first
		if x.snap.Seq != 0 {
			p = x.snap
		}
		if i == 0 || p.Seq < from.Seq {
			from = p
		}
	}
	index := map[string]int{}
	for i, x := range list {
		index[x.id] = i
	}
	finish := func(i int, l *live) {
		row := &rows[i]
		row.Status = l.s.Status.String()
		row.Error = l.s.Error
		if l.s.Status == engine.CompFailed && len(l.s.CompErrors) > 0 {
			row.Compensation = l.s.CompErrors[len(l.s.CompErrors)-1]
		}
		if l.s.Status == engine.Running {
			if row.Waiting = waits(l.c.prog, l.s); len(row.Waiting) > 0 {
				row.Status = "waiting"
			}
		}
	}
	fail := func(i int, err error) {
		failed[i] = true
		rows[i].Status, rows[i].Error = "unreadable", err.Error()
		delete(open, list[i].id)
	}
	if len(list) == 0 {
		return rows, nil, nil
	}
	err = d.st.ScanViews(ctx, from, func(r store.RecordView, _ store.Position) error {
		x := byID[string(r.CaseID)]
		i := index[string(r.CaseID)]
		if failed[i] {
			return nil
		}
		l := open[x.id]
		if l == nil {
			if x.snap.Seq != 0 && r.Seq < x.snap.Seq {
				return nil // folded into its latest snapshot
			}
			c := d.caseOf(x.id)
			if c.meta != nil {
				rows[i].Workflow, rows[i].Descriptor = c.meta.Workflow, c.meta.Descriptor
			}
			if c.prog == nil {
				rows[i].Error = c.err.Error()
				failed[i] = true // listed as unknown, as before: not unreadable
				return nil
			}
			l = &live{c: c}
			if x.snap.Seq == 0 {
				l.s = &engine.State{ID: x.id}
			}
			open[x.id] = l
		}
		if string(r.Kind) == engine.SnapshotKind {
			if l.s == nil {
				s, _, err := l.c.mach.DecodeState(r.Payload)
				if err != nil {
					fail(i, fmt.Errorf("snapshot record %d: %w", r.Seq, err))
					return nil
				}
				s.ID = x.id
				l.s = s
			}
		} else {
			ev, err := engine.DecodeEvent(r.Payload)
			if err != nil {
				fail(i, fmt.Errorf("record %d: %w", r.Seq, err))
				return nil
			}
			if err := l.c.mach.Apply(l.s, ev); err != nil {
				fail(i, fmt.Errorf("record %d: %v", r.Seq, err))
				return nil
			}
		}
		if r.Seq == x.last {
			finish(i, l)
			delete(open, x.id)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for i, f := range failed {
		if f && rows[i].Status == "unreadable" {
			bad = append(bad, rows[i])
		}
	}
	return rows, bad, nil
}
