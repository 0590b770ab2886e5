// This file implements "knhk run": one case of a workflow, run to its end
// on the durable engine.

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/caseio"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/store"
	"github.com/knhk/knhk/runtime/worker"
)

var runCmd = &command{
	name:      "run",
	usageLine: "knhk run [--workflow W] [--input FILE.json | --input-json JSON] [--mock MOCK.json] [--data DIR] FILE",
	short:     "run a workflow as a durable case",
	long: `Run checks and compiles FILE, starts one case of a workflow with the given
input and runs it to its end. The result is printed as JSON on standard
output; the case id, log messages and progress go to standard error.

The workflow is W, or the only workflow FILE declares. Its input is read
from the JSON file given with --input, or from --input-json: for a
workflow with one parameter, the value of that parameter (an order for
Fulfil(o: Order)); for several, an object with one member per parameter;
for none, nothing (or {}). The input is checked against the parameter
types before the case starts, and a mismatch names the field. An input
is at most 8 MiB (a larger file is refused while it is read), may start
with a UTF-8 byte order mark, and nests at most 1,000 levels; a negative
number needs no "--" before it.

Every step of the case is appended to the event log in the data directory
(--data, default ./.knhk) before it takes effect, so a case survives a
crash. Tasks run through their bindings: exec programs (a relative path
is resolved against FILE's directory), HTTP endpoints and the std
modules; std/kv keeps its data in the data directory. With --mock, the
tasks the JSON file MOCK names answer with its canned results instead:
{"task": value} for every call, {"task": [v1, v2]} one per call in the
order they start (the last repeats), {"$fail": "why"} as an element fails
that call; null for a task without a result. Any task may be mocked,
extern tasks (which only an embedding program can implement) included.
Each value is checked against the task's result type before the case
starts, and the mock is kept with the case, so knhk signal and resume
use it too. A mocked case runs on skipped time, as in Temporal's
time-skipping test environment: where run would sleep until a timer or a
retry backoff comes due, the case's clock jumps there instead (knhk
resume --advance D moves it on for a case that waits for a signal too).
Run waits out retry backoffs, and timers unless the case can also go on
by a signal.
Signals the case sends to other cases of the data directory (send S(...)
to ID) are delivered once it has run: each target is run on to its next
wait, and one that cannot take the signal (unknown, ended) is reported.

With --sign-key KEY every transition of the case gets a receipt in the
data directory's receipt log, checkpoints signed with KEY (knhk help
receipts); with --trust DIR run refuses a program whose descriptor is not
signed (FILE.sig, knhk sign) by a key in DIR, saying whether it is
unsigned, tampered or untrusted; with --unseal-key KEY sealed strings
among a task call's arguments (knhk seal) are opened just before the task
runs and stay sealed in the log. See docs/signing.md.

Run exits with status 0 when the case completes, and also when it is left
waiting for a signal: it prints "case ID is waiting for signal NAME" and
the case stays in the data directory. It exits with status 1 when FILE
does not check (soundness included, as in knhk check), the input does not
fit, or the case fails or is cancelled; a failure is reported with its
message and the source position of the step that failed.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		var o runOptions
		fs.StringVar(&o.workflow, "workflow", "", "run workflow `W`")
		fs.StringVar(&o.input, "input", "", "read the input from JSON `FILE`")
		fs.StringVar(&o.inputJSON, "input-json", "", "take the input from the `JSON` text")
		fs.StringVar(&o.data, "data", ".knhk", "keep the event log in `DIR`")
		fs.StringVar(&o.mock, "mock", "", "answer the tasks named in JSON `FILE` with its canned results")
		o.sign.define(fs)
		o.license.define(fs) // licenserun.go
		srv := serverFlag(fs)
		return func(e *env, args []string) int {
			if *srv != "" {
				if o.sign.set() {
					return usageError(e, "--sign-key, --trust and --unseal-key apply to a case run in this process; a server signs and checks with its own")
				}
				if o.mock != "" {
					return usageError(e, "--mock runs a case in this process; a server runs its cases with their real bindings")
				}
				if o.license.file != "" {
					return usageError(e, "--license applies to a case run in this process; a server enforces its own (knhk serve --license)")
				}
				return remoteRun(e, *srv, &o, args)
			}
			return runRun(e, &o, args)
		}
	},
}

type runOptions struct {
	workflow  string
	input     string
	inputJSON string
	data      string
	mock      string // the --mock file, "" for none
	sign      signOptions
	license   licenseFlags
}

func runRun(e *env, o *runOptions, args []string) int {
	args, code := appRunArgs(e, args) // a built binary runs its own program
	if code != exitOK {
		return code
	}
	if len(args) != 1 {
		return usageError(e, "want exactly one FILE, got %d", len(args))
	}
	if o.input != "" && o.inputJSON != "" {
		return usageError(e, "give the input with --input or --input-json, not both")
	}
	if args[0] == "-" {
		return usageError(e, "run needs a file, not standard input")
	}
	c, code := compileFile(e, args[0])
	if c == nil {
		return code
	}
	// The soundness gate of knhk check: an unsound workflow does not run.
	if !soundGate(e, c) {
		return exitUser
	}
	if !checkRunTrust(e, &o.sign, c) {
		return exitUser
	}
	net, ok := pickWorkflow(e, c.prog, o.workflow)
	if !ok {
		return exitUser
	}
	input, ok := readInput(e, o)
	if !ok {
		return exitUser
	}
	vals, err := decodeInput(c.prog, net, input)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: bad input for %s: %v\n", net.Name, err)
		return exitUser
	}
	var mock *caseMock
	if o.mock != "" {
		if mock, err = readMock(c.prog, o.mock); err != nil {
			fmt.Fprintf(e.stderr, "knhk: bad mock: %v\n", err)
			return exitUser
		}
	}

	if serverOwns(e, o.data) {
		return exitUser
	}
	st, err := store.Open(o.data, localStoreOptions(o.data)) // erase.go
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	defer st.Close()
	if !checkRunLicense(e, &o.license, st, net.Name) {
		return exitUser
	}
	reapGroups(e, o.data)
	sg, ok := openSigning(e, &o.sign, o.data, c.prog)
	if !ok {
		return exitUser
	}
	defer sg.close(e)
	// The case id is printed once its first event is durable (see
	// announceLog in casedata.go).
	var id string
	log := &announceLog{StoreLog: engine.StoreLog{Store: st}, announce: func() { fmt.Fprintf(e.stderr, "case %s\n", id) }}
	var w engine.Worker = worker.New(c.prog, worker.Options{
		DataDir:  o.data,
		BaseDir:  filepath.Dir(c.path),
		Log:      e.stderr,
		GroupDir: groupDir(o.data),
		Mining:   dataMiner{o.data},
	})
	policy, savePolicy, err := learnPolicy(e, o.data, c.prog)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	defer savePolicy()
	eng, err := engine.New(engine.Config{
		Program: c.prog,
		Eval:    evaluatorOf(c.prog),
		Worker:  sg.worker(newMockWorker(w, c.prog, mock)),
		Clock:   mockClock(mock),
		Log:     localShred(o.data, sg.log(log, c.prog)),
		Policy:  policy,
	})
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: internal error: %v\n", err)
		return exitInternal
	}
	ctx, stop := stopContext()
	defer stop()

	id, err = newCaseID()
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitInternal
	}
	// Only this process appends to the case; signal and resume from
	// another one fail clearly until it ends.
	release, err := st.LockCase(id)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	defer release()
	// The descriptor goes with the case, so later commands resume it on
	// the program it started with (see casedata.go).
	meta, err := recordCase(o.data, id, c.prog, net.Name, c.path, mock)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	bindMock(o.data, meta)
	ctx = withMockClock(ctx, mock)
	s, err := drive(ctx, eng, c.prog, id, net.Name, engine.Boxed(vals))
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(e.stderr, "knhk: interrupted; case %s is kept in %s\n", id, o.data)
			return exitUser
		}
		fmt.Fprintf(e.stderr, "knhk: case %s: %v\n", id, err)
		return exitUser
	}
	s = deliverSends(ctx, e, o.data, st, eng, c.prog, id, s)
	switch s.Status {
	case engine.Completed:
		return printResult(e, c.prog, net, s.Result)
	case engine.Failed, engine.CompFailed:
		reportFailure(e, c, s)
		return exitUser
	case engine.Cancelled:
		fmt.Fprintf(e.stderr, "knhk: case %s was cancelled\n", id)
		return exitUser
	}
	if names := waits(c.prog, s); len(names) > 0 {
		fmt.Fprintf(e.stderr, "case %s is waiting for signal %s\n", id, strings.Join(names, " or "))
		if due, ok := eng.NextDue(id); ok {
			fmt.Fprintf(e.stderr, "case %s has a timer due at %s\n", id, due.UTC().Format(time.RFC3339))
		}
		return exitOK
	}
	fmt.Fprintf(e.stderr, "knhk: case %s stopped without finishing or waiting for a signal\n", id)
	return exitInternal
}

// pickWorkflow finds the workflow to run: the named one, or the only
// top-level one.
func pickWorkflow(e *env, p *ir.Program, name string) (*ir.Net, bool) {
	var names []string
	for _, n := range p.Nets {
		if n == nil || strings.Contains(n.Name, ".") {
			continue // parallel for bodies and the like
		}
		if name != "" && n.Name == name {
			return n, true
		}
		names = append(names, n.Name)
	}
	sort.Strings(names)
	switch {
	case name != "":
		fmt.Fprintf(e.stderr, "knhk: no workflow %s (the file declares: %s)\n", name, listOrNone(names))
	case len(names) == 0:
		fmt.Fprintf(e.stderr, "knhk: the file declares no workflow\n")
	case len(names) == 1:
		return p.Net(names[0]), true
	default:
		fmt.Fprintf(e.stderr, "knhk: the file declares several workflows (%s); pick one with --workflow\n", strings.Join(names, ", "))
	}
	return nil, false
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// readInput returns the input JSON text, nil when none was given.
func readInput(e *env, o *runOptions) ([]byte, bool) {
	var b []byte
	var err error
	switch {
	case o.inputJSON != "":
		b, err = inputText("--input-json", []byte(o.inputJSON))
	case o.input != "":
		b, err = readInputFile(o.input)
	default:
		return nil, true
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return nil, false
	}
	return b, true
}

// decodeInput decodes input as the parameters of net (caseio's rule),
// saying how to give a missing one.
func decodeInput(p *ir.Program, net *ir.Net, input []byte) ([]eval.Value, error) {
	vals, err := caseio.DecodeInput(p, net, input)
	if err != nil && input == nil && len(net.Params) == 1 {
		err = fmt.Errorf("%w; give it with --input or --input-json", err)
	}
	return vals, err
}

// drive starts case id and runs it until it ends or waits for nothing
// but a signal, sleeping until timers and backoffs come due.
func drive(ctx context.Context, eng *engine.Engine, prog *ir.Program, id, net string, args []any) (*engine.State, error) {
	return resume(ctx, eng, prog, id, eng.Start(ctx, id, net, args))
}

// backingOff reports whether a call of s waits for its next attempt.
func backingOff(s *engine.State) bool { return caseio.BackingOff(s) }

// printResult prints the case's result as JSON.
func printResult(e *env, p *ir.Program, net *ir.Net, result eval.Value) int {
	if p.KindOf(net.Result) == ir.KindVoid {
		return exitOK
	}
	b, err := eval.ToJSON(p, result, net.Result)
	if err == nil {
		fmt.Fprintf(e.stdout, "%s\n", b)
		return exitOK
	}
	fmt.Fprintf(e.stderr, "knhk: internal error: the result of %s: %v\n", net.Name, err)
	return exitInternal
}

// waits returns the signals that an enabled wait of s listens for, or
// that a running parallel for adds instances on (more on), sorted.
func waits(p *ir.Program, s *engine.State) []string { return caseio.Waits(p, s) }

// newCaseID returns a fresh random case id.
func newCaseID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "c-" + hex.EncodeToString(b[:]), nil
}
