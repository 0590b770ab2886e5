// This file implements "knhk discover": a workflow found in an event log.

package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/knhk/knhk/runtime/discover"
	"github.com/knhk/knhk/runtime/eventlog"
)

var discoverCmd = &command{
	name:      "discover",
	usageLine: "knhk discover [--noise F] [--workflow NAME] [-o OUT.knhk] [--mock OUT.json] [--tree] [--score TREE.ptml] LOG.xes|LOG.csv",
	short:     "discover a workflow from an event log (inductive miner)",
	long: `Discover reads an event log (XES or CSV, either gzip-compressed, such as
knhk export, ProM, pm4py or Disco write) and prints a .knhk program
whose workflow replays it, found with the inductive miner: the log's
directly-follows graph is cut into choices, sequences, parallel parts
and loops, recursively, into a process tree, which is printed as
extern tasks (one per activity) and a workflow. Choices and loops are
decided by extern tasks choose_N and repeat_N. The program passes
knhk check; with --mock the file it writes runs it:
knhk run --mock OUT.json OUT.knhk.

--noise F (default 0.2) is the infrequent-behaviour filter of IMf:
where no cut exists, directly-follows edges rarer than F times their
source's most frequent edge are ignored. --noise 0 is the plain
inductive miner, whose model replays every trace; it finds the trees
pm4py 2.2.0 finds, the version that wrote pm4py's golden trees.

Standard error reports the model's token-replay fitness (1 when every
trace replays) and ETC precision (the share of what the model allows
that the log does) on the log. --tree prints the process tree there
too; --score TREE.ptml scores a process tree in PTML (as ProM and pm4py
write) on the same log by the same replay, to compare with.

A CSV log needs a header naming the case id, activity and timestamp
columns (case_id/CaseID/case:concept:name, activity/ActivityID/
concept:name, timestamp/CompleteTimestamp/time:timestamp); lifecycle and
resource are optional. An empty or malformed log is an error naming the
file, line and column.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		var o discoverOptions
		fs.Float64Var(&o.noise, "noise", 0.2, "IMf noise threshold `F` in [0, 1); 0 for the plain inductive miner")
		fs.StringVar(&o.workflow, "workflow", "Discovered", "the `NAME` of the workflow")
		fs.StringVar(&o.out, "o", "", "write the program to `FILE` instead of standard output")
		fs.StringVar(&o.mock, "mock", "", "write a mock file that runs the program to `FILE`")
		fs.BoolVar(&o.tree, "tree", false, "print the process tree on standard error")
		fs.StringVar(&o.score, "score", "", "also score the process tree in `TREE.ptml` on the log")
		return func(e *env, args []string) int {
			if len(args) != 1 {
				return usageError(e, "want exactly one LOG, got %d", len(args))
			}
			return runDiscover(e, &o, args[0])
		}
	},
}

type discoverOptions struct {
	noise     float64
	workflow  string
	out, mock string
	tree      bool
	score     string
}

func runDiscover(e *env, o *discoverOptions, path string) int {
	if o.noise < 0 || o.noise >= 1 {
		return usageError(e, "--noise %v is outside [0, 1)", o.noise)
	}
	if !isWorkflowName(o.workflow) {
		return usageError(e, "--workflow %q is not a name", o.workflow)
	}
	el, err := eventlog.ReadFile(path)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	l := discover.FromExport(el)
	tree, err := discover.Discover(l, discover.Options{Noise: o.noise})
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %s: %v\n", path, err)
		return exitUser
	}
	traces := 0
	for _, t := range l.Traces {
		traces += t.Count
	}
	sc := discover.Evaluate(tree, l)
	src := discover.Knhk(tree, discover.Header{Log: filepath.Base(path), Noise: o.noise, Traces: traces, Score: sc, Workflow: o.workflow})
	fmt.Fprintf(e.stderr, "discovered from %d traces (%d variants), %d activities: fitness %.4f, precision %.4f\n",
		traces, len(l.Traces), len(l.Names), sc.Fitness, sc.Precision)
	if o.tree {
		fmt.Fprintf(e.stderr, "tree: %s\n", tree)
	}
	if o.score != "" {
		f, err := os.Open(o.score)
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
			return exitUser
		}
		other, err := discover.ReadPTML(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: %s: %v\n", o.score, err)
			return exitUser
		}
		os2 := discover.Evaluate(other, l)
		fmt.Fprintf(e.stderr, "%s: fitness %.4f, precision %.4f\n", filepath.Base(o.score), os2.Fitness, os2.Precision)
	}
	if o.mock != "" {
		if err := os.WriteFile(o.mock, src.Mock, 0o644); err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
			return exitUser
		}
	}
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(src.Program), 0o644); err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
			return exitUser
		}
		return exitOK
	}
	fmt.Fprint(e.stdout, src.Program)
	return exitOK
}

// isWorkflowName says whether s is a KNHK identifier.
func isWorkflowName(s string) bool {
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}
