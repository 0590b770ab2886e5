// This file implements "knhk resume": a case picked up again after its
// process ended, so that timers and retries that came due meanwhile fire.

package main

import (
	"flag"
	"fmt"

	"github.com/knhk/knhk/runtime/engine"
)

var resumeCmd = &command{
	name:      "resume",
	usageLine: "knhk resume [--data DIR] CASE",
	short:     "resume a case: fire its due timers and run it on",
	long: `Resume picks up case CASE from the data directory (--data, default
./.knhk) on the compiled program it started with and runs it on as knhk
run does: timers and retry backoffs that came due while no process ran
fire, calls whose completion was not logged are invoked again with the
same idempotency keys, and the case runs until it ends or waits for a
signal. The outcome is reported as by knhk run. A case whose
compensation failed for good (compensation-failed) tries it again, with
all its attempts, and then the rest of its compensations.

Signals the case sent to other cases and that could not be delivered
yet (the target was busy in another process) are delivered too, also
when the case itself has ended.

Resume exits with status 1 for an unknown case or one that has ended
with nothing left to deliver, and at once, without waiting, when another
process is running the case (knhk run, signal or resume); other cases of
the data directory are not held up.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		data := fs.String("data", ".knhk", "the data `DIR` holding the case")
		srv := serverFlag(fs)
		return func(e *env, args []string) int {
			if *srv != "" {
				return remoteResume(e, *srv, args)
			}
			return runResume(e, *data, args)
		}
	},
}

func runResume(e *env, data string, args []string) int {
	if len(args) != 1 {
		return usageError(e, "want exactly one CASE, got %d", len(args))
	}
	id := args[0]
	ctx, stop := stopContext()
	defer stop()
	d, c, s, code := openCase(ctx, e, data, id)
	if d == nil {
		return code
	}
	defer d.close()
	if s.Done() && len(s.Outbox) == 0 {
		fmt.Fprintf(e.stderr, "knhk: case %s has ended (%s)\n", id, s.Status)
		return exitUser
	}
	eng, log, err := caseEngine(e, d, c)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: internal error: %v\n", err)
		return exitInternal
	}
	if s, err = resume(ctx, eng, c.prog, id, eng.Recover(ctx, id)); err != nil {
		return reportRunError(e, ctx, data, id, err)
	}
	if s.Status == engine.CompFailed {
		// The compensation that failed for good is tried again.
		if s, err = resume(ctx, eng, c.prog, id, eng.RetryCompensation(ctx, id)); err != nil {
			return reportRunError(e, ctx, data, id, err)
		}
	}
	s = deliverSends(ctx, e, data, d.st, eng, c.prog, id, s)
	return reportOutcome(e, c, eng, log, s)
}
