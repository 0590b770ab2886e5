// This file implements "knhk repair": cutting a damaged data directory
// back to its intact part, for an operator who accepts the loss.

package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/knhk/knhk/runtime/store"
)

var repairCmd = &command{
	name:      "repair",
	usageLine: "knhk repair [--data DIR]",
	short:     "cut a damaged data directory back to its intact part",
	long: `Repair makes a damaged data directory (--data, default ./.knhk) usable
again by dropping everything from the first damaged record on: it
truncates the log segment where the damage is, removes the segments
and snapshots after it, and rewrites HEAD so that it acknowledges
exactly what is left. Cases whose records were dropped go back to an
earlier state or disappear; repair says how many acknowledged records
were lost. It also removes case metadata files that name no case in the
log (see knhk fsck).

Run knhk fsck first and copy the directory away if the records matter:
repair is the only command that drops acknowledged records, and it does
so because you asked. Every change is printed and appended to
DIR/repair.log. Repair waits for commits in flight; stop processes that
run cases in the directory first.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		data := fs.String("data", ".knhk", "the data `DIR` to repair")
		return func(e *env, args []string) int { return runRepair(e, *data, args) }
	},
}

func runRepair(e *env, data string, args []string) int {
	if len(args) != 0 {
		return usageError(e, "want no arguments, got %d", len(args))
	}
	ctx := context.Background()
	rep, err := store.Repair(ctx, data, store.Options{})
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	for _, a := range rep.Actions {
		fmt.Fprintf(e.stdout, "%s\n", a)
	}
	ghosts, err := ghostCases(ctx, data)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	var removed []string
	for _, g := range ghosts {
		if err = os.Remove(g); err != nil {
			break
		}
		line := fmt.Sprintf("removed %s: it names no case in the log", g)
		removed = append(removed, line)
		fmt.Fprintf(e.stdout, "%s\n", line)
	}
	if lerr := store.AppendRepairLog(data, removed); err == nil {
		err = lerr
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	if rep.Lost > 0 {
		fmt.Fprintf(e.stdout, "repaired: %d acknowledged records lost; the log now ends at record %d\n", rep.Lost, rep.LastSeq)
	} else {
		fmt.Fprintf(e.stdout, "repaired: the log ends at record %d\n", rep.LastSeq)
	}
	return exitOK
}
