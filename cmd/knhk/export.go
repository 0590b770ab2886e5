// This file implements "knhk export": the event logs of cases as XES or
// CSV for process-mining tools.

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/export"
	"github.com/knhk/knhk/runtime/history"
	"github.com/knhk/knhk/runtime/store"
)

var exportCmd = &command{
	name:      "export",
	usageLine: "knhk export [--data DIR] (--xes | --csv) [-o FILE] [CASE...]",
	short:     "export case event logs as XES or CSV for process mining",
	long: `Export writes the event log of the given cases, or of every case in the
data directory (--data, default ./.knhk), for process-mining tools: as
XES (IEEE 1849) with --xes, or as CSV with --csv, to FILE (-o) or
standard output.

Each case is one trace, named by its case id, with the attributes
workflow and descriptor (the hash of the program it runs). Each task or
kernel call is an activity named after the task with a start event when
it is invoked and a complete event when its result is logged, its
resource the kind of binding (exec, http, std, ...). A signal
arriving, a timer that fires and a fail step are complete events named
"signal NAME", "timer" and "fail". (A signal is logged when it
arrives, so one that is buffered shows before the wait that takes it.)
Compensations are "undo TASK".
Timestamps are those of the log, in UTC.

The CSV has the header case_id,activity,lifecycle,timestamp,resource.
Export exits with status 1 for an unknown case. A case whose descriptor
is missing is left out, and a case whose records cannot be read back is
written up to the last event that could be read; either is reported on
standard error, the other cases are still written, and export then
exits with status 1. Export only reads the data directory: it works while other
processes run cases there, and on a read-only copy; it streams the log,
one case at a time.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		var o exportOptions
		fs.StringVar(&o.data, "data", ".knhk", "the data `DIR` holding the cases")
		fs.BoolVar(&o.xes, "xes", false, "write XES")
		fs.BoolVar(&o.csv, "csv", false, "write CSV")
		fs.StringVar(&o.out, "o", "", "write to `FILE` instead of standard output")
		srv := serverFlag(fs)
		return func(e *env, args []string) int {
			if *srv != "" {
				return remoteExport(e, *srv, &o, args)
			}
			return runExport(e, &o, args)
		}
	},
}

type exportOptions struct {
	data     string
	xes, csv bool
	out      string
}

func runExport(e *env, o *exportOptions, args []string) int {
	if o.xes == o.csv {
		return usageError(e, "give exactly one of --xes and --csv")
	}
	ctx := context.Background()
	d, err := openData(o.data, false)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	defer d.close()
	list, byID, err := d.index(ctx)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	cases := list
	if len(args) > 0 {
		cases = nil
		for _, id := range args {
			x := byID[id]
			if x == nil {
				fmt.Fprintf(e.stderr, "knhk: unknown case %s in %s\n", id, d.path)
				return exitUser
			}
			cases = append(cases, x)
		}
	}
	out := e.stdout
	var f *os.File
	if o.out != "" {
		if f, err = os.Create(o.out); err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
			return exitUser
		}
		defer f.Close()
		out = f
	}
	var w export.Writer
	if o.xes {
		w = export.NewXESWriter(out)
	} else {
		w = export.NewCSVWriter(out)
	}
	// Each case streams from its first record to its last; one that cannot
	// be read is reported and skipped, and the others are still written.
	failed := 0
	for _, x := range cases {
		c := d.caseOf(x.id)
		if c.prog == nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", c.err)
			failed++
			continue
		}
		if err := traceOf(ctx, d, c, x, w); err != nil {
			var ce *store.CorruptError
			if errors.As(err, &ce) {
				w.Close()
				fmt.Fprintf(e.stderr, "knhk: %v\n", err)
				return exitUser
			}
			fmt.Fprintf(e.stderr, "knhk: case %s is unreadable; its trace stops at the event before: %v\n", x.id, err)
			failed++
		}
	}
	if err := w.Close(); err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	if f != nil {
		if err := f.Close(); err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
			return exitUser
		}
	}
	if failed > 0 {
		return exitUser
	}
	return exitOK
}

// traceOf replays case c (indexed as x) and writes its events to w as
// process-mining events, one at a time.
func traceOf(ctx context.Context, d *dataDir, c *caseLog, x *caseInfo, w export.Writer) error {
	if err := w.Begin(c.id, []export.Attr{{Key: "workflow", Value: c.meta.Workflow}, {Key: "descriptor", Value: c.meta.Descriptor}}); err != nil {
		return err
	}
	p := c.prog
	var s engine.State
	s.ID = c.id
	return d.caseEvents(ctx, x, func(seq store.Seq, ev *engine.Event) error {
		at := time.Unix(0, ev.Time).UTC()
		var werr error
		add := func(activity, lifecycle, resource string) {
			if werr == nil {
				werr = w.Event(export.Event{Activity: activity, Lifecycle: lifecycle, Time: at, Resource: resource})
			}
		}
		history.Ended(p, &s, ev, add)
		next := s.NextInv
		if err := c.mach.Apply(&s, ev); err != nil {
			return fmt.Errorf("record %d: %v", seq, err)
		}
		history.Started(p, &s, next, add)
		return werr
	})
}
