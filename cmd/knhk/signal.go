// This file implements "knhk signal": a signal with its payload delivered
// to a waiting case, which then runs on.

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/caseio"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/worker"
)

var signalCmd = &command{
	name:      "signal",
	usageLine: "knhk signal [--data DIR] CASE NAME [JSON]",
	short:     "send a signal to a waiting case and run it on",
	long: `Signal delivers signal NAME with the payload JSON to case CASE in the data
directory (--data, default ./.knhk), then runs the case on as knhk run
does: until it ends or waits for a signal again. The result or the new
waiting state is reported as by knhk run; a failure at its source
position when the file run was given still compiles to the case's
program (the message alone once that file changed).

The payload follows the rule of run's input: for a signal with one
parameter, the value of that parameter; for several, an object with one
member per parameter; for none, nothing (or {}). It is checked against
the parameter types before anything is written, and a mismatch names the
field. The payload has run's input limits, and a negative number such
as -5 is a payload as it stands.

The case resumes on the compiled program it started with, even when its
source file has changed since. Timers of the case that came due while no
command ran fire first, so a signal may find the case already ended.

Signal exits with status 1, and appends nothing to the log, for an
unknown case, a case that has ended, a signal the workflow does not
declare, a payload that does not fit, or a case that another process is
running (it says so at once instead of waiting).
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		data := fs.String("data", ".knhk", "the data `DIR` holding the case")
		var so signOptions
		so.define(fs)
		srv := serverFlag(fs)
		return func(e *env, args []string) int {
			if *srv != "" {
				return remoteSignal(e, *srv, args)
			}
			return runSignal(e, *data, &so, args)
		}
	},
}

func runSignal(e *env, data string, so *signOptions, args []string) int {
	if len(args) < 2 || len(args) > 3 {
		return usageError(e, "want CASE NAME [JSON], got %d arguments", len(args))
	}
	id, name := args[0], args[1]
	var payload []byte
	if len(args) == 3 {
		var err error
		if payload, err = inputText("the payload", []byte(args[2])); err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
			return exitUser
		}
	}
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
	if s.Done() {
		fmt.Fprintf(e.stderr, "knhk: case %s has ended (%s); it takes no more signals\n", id, s.Status)
		return exitUser
	}
	if s.Status == engine.CompFailed {
		fmt.Fprintf(e.stderr, "knhk: case %s is compensation-failed; it takes no more signals (knhk resume %s retries the compensation)\n", id, id)
		return exitUser
	}
	p := c.prog
	root := p.Nets[s.Net]
	sig := findSignal(p, root, name)
	if sig == nil {
		fmt.Fprintf(e.stderr, "knhk: workflow %s has no signal %s (it accepts: %s)\n", root.Name, name, listOrNone(signalNames(p, root)))
		return exitUser
	}
	vals, err := decodePayload(p, sig, payload)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: bad payload for signal %s: %v\n", name, err)
		return exitUser
	}
	eng, log, err := caseEngine(e, d, c)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: internal error: %v\n", err)
		return exitInternal
	}
	ctx = withMockClock(ctx, mockOf(c)) // a mocked case skips time
	// Recover replays the case and fires whatever came due meanwhile.
	if s, err = resume(ctx, eng, p, id, eng.Recover(ctx, id)); err != nil {
		return reportRunError(e, ctx, data, id, err)
	}
	if s.Done() {
		fmt.Fprintf(e.stderr, "knhk: case %s ended before signal %s could be delivered\n", id, name)
		reportOutcome(e, c, eng, log, s)
		return exitUser
	}
	s, err = resume(ctx, eng, p, id, eng.Signal(ctx, id, name, engine.Boxed(vals)))
	if err != nil {
		return reportRunError(e, ctx, data, id, err)
	}
	s = deliverSends(ctx, e, data, d.st, eng, p, id, s)
	return reportOutcome(e, c, eng, log, s)
}

// decodePayload decodes the payload of signal sig by run's input rule.
// For one parameter whose type is not a record, map or optional, an
// object with that one member is accepted as well ({"by": "ann"} for
// Approve(by: string)): it cannot be mistaken for the value itself.
func decodePayload(p *ir.Program, sig *ir.Signal, payload []byte) ([]eval.Value, error) {
	return caseio.DecodePayload(p, sig, payload)
}

// openCase opens the data directory for writing, takes case id's lock
// and rebuilds the case (see openCaseData in casedata.go).
func openCase(ctx context.Context, e *env, data, id string) (*dataDir, *caseLog, *engine.State, int) {
	return openCaseData(ctx, e, data, id, true)
}

// findSignal returns the declaration of signal name that a case of root
// accepts: root's own, or that of a net it may wait in.
func findSignal(p *ir.Program, root *ir.Net, name string) *ir.Signal {
	return caseio.FindSignal(p, root, name)
}

// signalNames lists the signals root declares, for error messages.
func signalNames(p *ir.Program, root *ir.Net) []string { return caseio.SignalNames(root) }

// caseEngine returns an engine over d's log running c's program, with
// task bindings resolved against the directory of the file the case was
// started from.
func caseEngine(e *env, d *dataDir, c *caseLog) (*engine.Engine, engine.EventLog, error) {
	log := engine.StoreLog{Store: d.st}
	reapGroups(e, d.path)
	base := "."
	if c.meta != nil && c.meta.Source != "" {
		base = filepath.Dir(c.meta.Source)
	}
	if err := appProgram(c.prog); err != nil {
		return nil, nil, err
	}
	mock := bindMock(d.path, c.meta)
	// A case already running goes on even when learn/config.json has
	// become bad: its routes then take their first candidate.
	policy, savePolicy, err := learnPolicy(e, d.path, c.prog)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v; learned routes take their first candidate\n", err)
		policy, savePolicy = nil, func() {}
	}
	// The policy is saved when d closes, after the case has run on.
	release := d.release
	d.release = func() error {
		savePolicy()
		if release != nil {
			return release()
		}
		return nil
	}
	eng, err := engine.New(engine.Config{
		Program: c.prog,
		Eval:    evaluatorOf(c.prog),
		Policy:  policy,
		Worker:  d.sign.worker(newMockWorker(worker.New(c.prog, worker.Options{DataDir: d.path, BaseDir: base, Log: e.stderr, GroupDir: groupDir(d.path), Mining: dataMiner{d.path}}), c.prog, mock)),
		Clock:   mockClock(mock),
		Log:     localShred(d.path, d.sign.log(log, c.prog)),
	})
	return eng, log, err
}

// resume goes on from the result err of a Start, Signal, Recover or Run
// of case id, as drive does: until the case ends or waits for nothing
// but a signal, sleeping until timers and backoffs come due.
func resume(ctx context.Context, eng *engine.Engine, prog *ir.Program, id string, err error) (*engine.State, error) {
	for {
		if err != nil && !errors.Is(err, engine.ErrBusy) {
			return nil, err
		}
		s, serr := eng.Snapshot(id)
		if serr != nil {
			return nil, serr
		}
		if s.Done() {
			return s, nil
		}
		if err == nil {
			if len(waits(prog, s)) > 0 && !backingOff(s) {
				return s, nil
			}
			due, ok := eng.NextDue(id)
			if !ok {
				return s, nil
			}
			d, derr := untilDue(ctx, due)
			if derr != nil {
				return nil, derr
			}
			if d > 0 {
				t := time.NewTimer(d)
				select {
				case <-ctx.Done():
					t.Stop()
					return nil, ctx.Err()
				case <-t.C:
				}
			}
		}
		err = eng.Run(ctx, id)
	}
}

func reportRunError(e *env, ctx context.Context, data, id string, err error) int {
	if ctx.Err() != nil {
		fmt.Fprintf(e.stderr, "knhk: interrupted; case %s is kept in %s\n", id, data)
		return exitUser
	}
	fmt.Fprintf(e.stderr, "knhk: case %s: %v\n", id, err)
	return exitUser
}

// reportOutcome reports where case s stands as knhk run does and returns
// the exit code.
func reportOutcome(e *env, c *caseLog, eng *engine.Engine, log engine.EventLog, s *engine.State) int {
	p := c.prog
	net := p.Nets[s.Net]
	switch s.Status {
	case engine.Completed:
		return printResult(e, p, net, s.Result)
	case engine.Failed, engine.Failing, engine.CompFailed:
		// The failure's position when the source still compiles to this
		// program; without it, the message alone.
		reportFailure(e, &compiled{prog: p, files: caseSources(c)}, s)
		return exitUser
	case engine.Cancelled:
		fmt.Fprintf(e.stderr, "knhk: case %s was cancelled\n", s.ID)
		return exitUser
	}
	if names := waits(p, s); len(names) > 0 {
		fmt.Fprintf(e.stderr, "case %s is waiting for signal %s\n", s.ID, strings.Join(names, " or "))
		if due, ok := eng.NextDue(s.ID); ok {
			fmt.Fprintf(e.stderr, "case %s has a timer due at %s\n", s.ID, due.UTC().Format(time.RFC3339))
		}
		return exitOK
	}
	fmt.Fprintf(e.stderr, "knhk: case %s stopped without finishing or waiting for a signal\n", s.ID)
	return exitInternal
}
