// This file implements "knhk resume": a case picked up again after its
// process ended, so that timers and retries that came due meanwhile fire.

package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/knhk/knhk/runtime/engine"
)

var resumeCmd = &command{
	name:      "resume",
	usageLine: "knhk resume [--data DIR] [--advance D] CASE",
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

A case started with knhk run --mock runs on skipped time (see knhk help
run): --advance D moves its clock on by D first, so that the timers due
within D fire now, as Temporal's test environment skips time; it is
refused for a case that runs on the real clock.

Resume exits with status 1 for an unknown case or one that has ended
with nothing left to deliver, and at once, without waiting, when another
process is running the case (knhk run, signal or resume); other cases of
the data directory are not held up.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		data := fs.String("data", ".knhk", "the data `DIR` holding the case")
		advance := fs.Duration("advance", 0, "move a mocked case's clock on by `D` (such as 90s or 2h) first")
		var so signOptions
		so.define(fs)
		srv := serverFlag(fs)
		return func(e *env, args []string) int {
			if *srv != "" {
				if *advance != 0 {
					return usageError(e, "--advance moves the clock of a mocked case of a data directory, not of a server's")
				}
				return remoteResume(e, *srv, args)
			}
			return runResume(e, *data, *advance, &so, args)
		}
	},
}

func runResume(e *env, data string, advance time.Duration, so *signOptions, args []string) int {
	if len(args) != 1 {
		return usageError(e, "want exactly one CASE, got %d", len(args))
	}
	if advance < 0 {
		return usageError(e, "--advance %s: a clock only moves forward", advance)
	}
	id := args[0]
	ctx, stop := stopContext()
	defer stop()
	d, c, s, code := openCase(ctx, e, data, id)
	if d == nil {
		return code
	}
	defer d.close()
	if !useSigning(e, d, c, so) {
		return exitUser
	}
	defer d.sign.close(e)
	if s.Done() && len(s.Outbox) == 0 {
		fmt.Fprintf(e.stderr, "knhk: case %s has ended (%s)\n", id, s.Status)
		return exitUser
	}
	eng, log, err := caseEngine(e, d, c)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: internal error: %v\n", err)
		return exitInternal
	}
	if advance > 0 {
		m := mockOf(c)
		if m == nil {
			fmt.Fprintf(e.stderr, "knhk: case %s runs on the real clock; --advance moves only the clock of a case started with knhk run --mock\n", id)
			return exitUser
		}
		if err := m.advance(advance); err != nil {
			fmt.Fprintf(e.stderr, "knhk: case %s: %v\n", id, err)
			return exitUser
		}
	}
	ctx = withMockClock(ctx, mockOf(c)) // a mocked case skips time
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
