// This file implements "knhk export": the event logs of cases as XES or
// CSV for process-mining tools.

package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/export"
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
Export exits with status 1 for an unknown case or a case whose
descriptor is missing.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		var o exportOptions
		fs.StringVar(&o.data, "data", ".knhk", "the data `DIR` holding the cases")
		fs.BoolVar(&o.xes, "xes", false, "write XES")
		fs.BoolVar(&o.csv, "csv", false, "write CSV")
		fs.StringVar(&o.out, "o", "", "write to `FILE` instead of standard output")
		return func(e *env, args []string) int { return runExport(e, &o, args) }
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
	d, err := openData(context.Background(), o.data)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	defer d.close()
	var cases []*caseLog
	if len(args) == 0 {
		if cases, err = d.all(); err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
			return exitUser
		}
	} else {
		for _, id := range args {
			c, err := d.lookupCase(id)
			if err != nil {
				fmt.Fprintf(e.stderr, "knhk: %v\n", err)
				return exitUser
			}
			cases = append(cases, c)
		}
	}
	var l export.Log
	for _, c := range cases {
		t, err := traceOf(c)
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
			return exitUser
		}
		l.Traces = append(l.Traces, t)
	}
	var b bytes.Buffer
	if o.xes {
		err = export.WriteXES(&b, &l)
	} else {
		err = export.WriteCSV(&b, &l)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: internal error: %v\n", err)
		return exitInternal
	}
	if o.out == "" {
		e.stdout.Write(b.Bytes())
		return exitOK
	}
	if err := os.WriteFile(o.out, b.Bytes(), 0o666); err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	return exitOK
}

// traceOf replays c and turns its events into process-mining events.
func traceOf(c *caseLog) (export.Trace, error) {
	t := export.Trace{Case: c.id}
	if c.prog == nil {
		return t, c.err
	}
	t.Attrs = []export.Attr{{Key: "workflow", Value: c.meta.Workflow}, {Key: "descriptor", Value: c.meta.Descriptor}}
	p := c.prog
	var s engine.State
	s.ID = c.id
	for i, ev := range c.events {
		at := time.Unix(0, ev.Time).UTC()
		add := func(activity, lifecycle, resource string) {
			t.Events = append(t.Events, export.Event{Activity: activity, Lifecycle: lifecycle, Time: at, Resource: resource})
		}
		switch ev.Kind {
		case engine.EvFire:
			if tr := eventTransition(p, &s, ev); tr != nil && tr.Kind == ir.TFail {
				add("fail", export.Complete, "")
			}
		case engine.EvSignal:
			add("signal "+ev.Name, export.Complete, "")
		case engine.EvTimer:
			add("timer", export.Complete, "")
		case engine.EvDone:
			for _, v := range s.Invs {
				if v.ID != ev.Inv || v.Call == nil {
					continue
				}
				if v.Comp {
					add("undo "+calleeName(p, v.Call), export.Complete, resourceOf(p, v.Call))
				} else {
					add(calleeName(p, v.Call), export.Complete, resourceOf(p, v.Call))
				}
			}
		}
		next := s.NextInv
		if err := c.mach.Apply(&s, ev); err != nil {
			return t, fmt.Errorf("case %s: event %d: %v", c.id, i+1, err)
		}
		// Every call the event started, whatever started it (a task
		// step, a learned route, a hook, a compensation), starts an
		// activity.
		for _, v := range s.Invs {
			if v.ID < next || v.Call == nil {
				continue
			}
			if v.Comp {
				add("undo "+calleeName(p, v.Call), export.Start, resourceOf(p, v.Call))
			} else {
				add(calleeName(p, v.Call), export.Start, resourceOf(p, v.Call))
			}
		}
	}
	return t, nil
}

// resourceOf is the org:resource of a call: the kind of binding that
// runs a task, "kernel" for a kernel.
func resourceOf(p *ir.Program, c *ir.Call) string {
	switch c.Kind {
	case ir.CallTask:
		if i := int(c.Target); i >= 0 && i < len(p.Tasks) && p.Tasks[i] != nil {
			return p.Tasks[i].Binding.Kind.String()
		}
	case ir.CallKernel:
		return "kernel"
	}
	return ""
}
