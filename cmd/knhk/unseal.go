// This file implements sealed secrets on the command line: knhk seal,
// and the worker of knhk run --unseal-key that opens sealed arguments at
// the moment a task is called, so that the event log, receipts, history
// and exports only ever hold the sealed text.

package main

import (
	"context"
	"flag"
	"fmt"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
	"io"
	"os"
	"strings"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/seal"
)

var sealCmd = &command{
	name:      "seal",
	usageLine: "knhk seal --to KEY.pub [--value TEXT | FILE]",
	short:     "seal a secret for a sealing key",
	long: `Seal encrypts a secret for the holder of a sealing key (knhk keygen --alg
xwing) with the hybrid KEM X-Wing (X25519 and ML-KEM-768) and AES-256-GCM,
and prints the sealed text: knhk-sealed:v1:... The secret is TEXT, the
contents of FILE, or standard input for "-" (a final newline is dropped).

A sealed value is an ordinary string to a workflow: pass it as (part of)
a case's input. knhk run --unseal-key KEY opens sealed strings among a
task call's arguments just before the task runs; the event log, the
receipts, history and exports hold only the sealed text.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		to := fs.String("to", "", "seal for the public key in `KEY.pub`")
		value := fs.String("value", "", "the secret `TEXT`")
		return func(e *env, args []string) int {
			if *to == "" {
				return usageError(e, "give the recipient's public key with --to")
			}
			if (*value == "") == (len(args) == 0) || len(args) > 1 {
				return usageError(e, "give the secret with --value or as one FILE (- for standard input)")
			}
			return runSeal(e, *to, *value, args)
		}
	},
}

func runSeal(e *env, to, value string, args []string) int {
	b, err := readSmall(to)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	k, err := seal.ParsePublicKey(b)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: key %s: %v\n", to, err)
		return exitUser
	}
	secret := []byte(value)
	if len(args) == 1 {
		var r io.Reader = e.stdin
		if args[0] != "-" {
			f, err := os.Open(args[0])
			if err != nil {
				fmt.Fprintf(e.stderr, "knhk: %v\n", err)
				return exitUser
			}
			defer f.Close()
			r = f
		}
		if secret, err = readLimited(r, args[0]); err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
			return exitUser
		}
		secret = []byte(strings.TrimSuffix(string(secret), "\n"))
	}
	s, err := k.Seal(secret)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitInternal
	}
	fmt.Fprintln(e.stdout, s)
	return exitOK
}

// readSealKey reads the --unseal-key file; nil when none is given.
func readSealKey(path string) (*seal.PrivateKey, error) {
	if path == "" {
		return nil, nil
	}
	b, err := readSmall(path)
	if err != nil {
		return nil, err
	}
	k, err := seal.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	return k, nil
}

// unsealWorker opens the sealed strings among a call's arguments before
// handing the call to the worker inside.
type unsealWorker struct {
	engine.Worker
	key *seal.PrivateKey
}

// unsealRecorder is an unsealWorker over a worker that is an
// engine.Recorder, which it stays.
type unsealRecorder struct {
	*unsealWorker
	engine.Recorder
}

// withUnseal wraps w when key is set.
func withUnseal(w engine.Worker, key *seal.PrivateKey) engine.Worker {
	if key == nil {
		return w
	}
	u := &unsealWorker{Worker: w, key: key}
	if r, ok := w.(engine.Recorder); ok {
		return &unsealRecorder{u, r}
	}
	return u
}

func (w *unsealWorker) Invoke(ctx context.Context, inv engine.Invocation) (eval.Value, error) {
	args := make([]eval.Value, len(inv.Args))
	for i, a := range inv.Args {
		v, err := w.open(a)
		if err != nil {
			return eval.Value{}, fmt.Errorf("argument %d: %w", i+1, err)
		}
		args[i] = v
	}
	inv.Args = args
	return w.Worker.Invoke(ctx, inv)
}

// open returns v with every sealed string inside it opened; v itself is
// not changed (the engine keeps it).
func (w *unsealWorker) open(v eval.Value) (eval.Value, error) {
	switch v.Kind() {
	case ir.KindString:
		if !seal.IsSealed(v.AsString()) {
			return v, nil
		}
		pt, err := w.key.Open(v.AsString())
		if err != nil {
			return eval.Value{}, err
		}
		return eval.Str(string(pt)), nil
	case ir.KindList, ir.KindRecord:
		out := make([]eval.Value, v.Len())
		for i, e := range v.Elems() {
			o, err := w.open(e)
			if err != nil {
				return eval.Value{}, err
			}
			out[i] = o
		}
		if v.Kind() == ir.KindRecord {
			return eval.Record(v.RecordType(), out), nil
		}
		return eval.List(out), nil
	case ir.KindMap:
		keys := make([]eval.Value, v.Len())
		vals := make([]eval.Value, v.Len())
		for i := range v.Len() {
			k, err := w.open(v.Key(i))
			if err != nil {
				return eval.Value{}, err
			}
			e, err := w.open(v.Index(i))
			if err != nil {
				return eval.Value{}, err
			}
			keys[i], vals[i] = k, e
		}
		return eval.Map(keys, vals), nil
	}
	return v, nil
}
