// This file implements the signing flags of the commands that run cases
// (run, and a built binary's run): --trust refuses a program whose
// descriptor is not signed by a trusted key, --sign-key keeps a receipt
// log signed with the key.

package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/receipt"
	"github.com/knhk/knhk/runtime/seal"
	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/runtime/store"
)

// signOptions are the signing flags of a command that runs cases.
type signOptions struct {
	signKey string // --sign-key: keep receipts signed with this private key
	trust   string // --trust: run only descriptors signed by these keys
	policy  string // --policy: the weakest signature class --trust accepts
	every   int    // --checkpoint-every: receipts per checkpoint
	// interval is --checkpoint-interval: the longest a receipt waits for
	// its checkpoint.
	interval string
	// unsealKey is --unseal-key: open sealed task arguments with this
	// sealing key (see unseal.go).
	unsealKey string
	// sealResults is --seal-results: tasks whose string results are
	// sealed for the --unseal-key key (sealresult.go).
	sealResults string
}

func (o *signOptions) define(fs *flag.FlagSet) {
	fs.StringVar(&o.signKey, "sign-key", "", "keep a receipt log of every transition, checkpoints signed with the private key `KEY`")
	fs.StringVar(&o.trust, "trust", "", "run only a program whose descriptor is signed by a key in `DIR`")
	fs.StringVar(&o.policy, "policy", "classical", "the weakest signature class `P` (classical, hybrid, post-quantum) --trust accepts and --sign-key signs with")
	fs.IntVar(&o.every, "checkpoint-every", receipt.DefaultEvery, "sign a receipt checkpoint every `N` receipts")
	fs.StringVar(&o.interval, "checkpoint-interval", "1s", "sign a receipt checkpoint at least every `D`")
	fs.StringVar(&o.unsealKey, "unseal-key", "", "open sealed task arguments with the sealing key `KEY`")
	fs.StringVar(&o.sealResults, "seal-results", "", "seal the string results of the tasks `T1,T2` for the --unseal-key key")
}

// set reports whether any signing flag asks for work.
func (o *signOptions) set() bool {
	return o.signKey != "" || o.trust != "" || o.unsealKey != "" || o.sealResults != ""
}

// readTrust reads what --trust checks a descriptor with: the trusted
// keys, the --policy they must meet, and the hash of prog, the
// descriptor. It prints why not and returns false. Starting a case
// (checkRunTrust) and going on with one (useSigning) both read them here.
func (o *signOptions) readTrust(e *env, prog *ir.Program) (*sign.TrustSet, sign.Policy, string, bool) {
	policy, err := sign.ParsePolicy(o.policy)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return nil, policy, "", false
	}
	trust, err := readTrust(o.trust)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return nil, policy, "", false
	}
	hash, err := prog.Hash()
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: internal error: %v\n", err)
		return nil, policy, "", false
	}
	return trust, policy, hash, true
}

// checkRunTrust applies --trust to the program c: its descriptor must be
// signed, in FILE.sig (for a built binary, the binary's path + ".sig"),
// by a trusted key the policy accepts. It prints why not and returns
// false.
func checkRunTrust(e *env, o *signOptions, c *compiled) bool {
	if o.trust == "" {
		return true
	}
	trust, policy, hash, ok := o.readTrust(e, c.prog)
	if !ok {
		return false
	}
	sigFile, name := sigPath(c.path), c.path
	check := func() error { _, err := checkTrusted(trust, policy, sigFile, hash); return err }
	if app != nil {
		// A built binary: the signature embedded in it, and any in
		// APP.sig beside it.
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
			return false
		}
		name = app.name
		check = func() error {
			b, where, err := appSignatures(exe)
			if err != nil {
				return err
			}
			if len(b) == 0 {
				return fmt.Errorf("descriptor %s is unsigned: no signature %s (build it with knhk build --sign-key KEY)", hash, where)
			}
			_, err = checkTrustedSigs(trust, policy, b, exe, hash)
			return err
		}
	}
	if err := check(); err != nil {
		fmt.Fprintf(e.stderr, "knhk: refusing to run %s: %v\n", filepath.Base(name), err)
		return false
	}
	return true
}

// runSigning is what the signing flags add to a run: the receipt log
// and the sealing key, each nil when not asked for.
type runSigning struct {
	rec   *receipt.Recorder
	seal  *seal.PrivateKey
	tasks map[string]bool // --seal-results
}

// openSigning reads the keys and opens the receipt log the flags ask
// for, printing what is wrong.
func openSigning(e *env, o *signOptions, data string, prog *ir.Program) (*runSigning, bool) {
	sk, err := readSealKey(o.unsealKey)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: --unseal-key: %v\n", err)
		return nil, false
	}
	tasks, err := sealTasks(o.sealResults, prog, sk)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return nil, false
	}
	rec, ok := openReceipts(e, o, data)
	if !ok {
		return nil, false
	}
	return &runSigning{rec: rec, seal: sk, tasks: tasks}, true
}

// log is log with receipts when they are kept; s may be nil.
func (s *runSigning) log(log engine.EventLog, prog *ir.Program) engine.EventLog {
	if s == nil {
		return log
	}
	return receiptLog(s.rec, log, prog)
}

// worker is w opening sealed arguments when a sealing key is given; s
// may be nil.
func (s *runSigning) worker(w engine.Worker) engine.Worker {
	if s == nil {
		return w
	}
	return withSealResults(withUnseal(w, s.seal), s.seal, s.tasks)
}

// close signs the receipts' last checkpoint; s may be nil.
func (s *runSigning) close(e *env) {
	if s != nil {
		closeReceipts(e, s.rec)
	}
}

// useSigning applies the signing flags of signal and resume to the case
// c of d: --trust checks the descriptor the case runs (signed beside the
// file it was started from, FILE.sig, or in DIR/descriptors/HASH.ir.sig),
// --sign-key goes on with its receipts, --unseal-key opens its sealed
// arguments.
func useSigning(e *env, d *dataDir, c *caseLog, o *signOptions) bool {
	if o.trust != "" {
		trust, policy, hash, ok := o.readTrust(e, c.prog)
		if !ok {
			return false
		}
		var files []string
		if c.meta != nil && c.meta.Source != "" {
			files = append(files, sigPath(c.meta.Source))
		}
		files = append(files, sigPath(filepath.Join(d.path, "descriptors", hash+".ir")))
		var why error
		for _, f := range files {
			if _, why = checkTrusted(trust, policy, f, hash); why == nil {
				break
			}
		}
		if why != nil {
			fmt.Fprintf(e.stderr, "knhk: refusing to go on with case %s: %v\n", c.id, why)
			return false
		}
	}
	sg, ok := openSigning(e, o, d.path, c.prog)
	if !ok {
		return false
	}
	d.sign = sg
	return true
}

// openReceipts opens the receipt log of data when --sign-key is given;
// nil, true when it is not.
func openReceipts(e *env, o *signOptions, data string) (*receipt.Recorder, bool) {
	if o.signKey == "" {
		return nil, true
	}
	k, err := readPrivateKey(o.signKey)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: --sign-key: %v\n", err)
		return nil, false
	}
	if err := checkSignPolicy(o.policy, k); err != nil {
		fmt.Fprintf(e.stderr, "knhk: --sign-key: %v\n", err)
		return nil, false
	}
	if o.every <= 0 {
		fmt.Fprintf(e.stderr, "knhk: --checkpoint-every must be positive, got %d\n", o.every)
		return nil, false
	}
	iv, err := parseInterval(o.interval)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: --checkpoint-interval: %v\n", err)
		return nil, false
	}
	rec, err := receipt.Open(data, receipt.Options{Key: k, Every: o.every, Interval: iv})
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return nil, false
	}
	// Events that have no receipt yet (cut off by a crash before their
	// checkpoint, or appended without --sign-key) get one now.
	if st, err := store.OpenReadOnly(data, store.Options{}); err == nil {
		n, err := rec.Backfill(logEventsFrom(st), func(id string) string {
			if m, err := readMeta(data, id); err == nil {
				return m.Descriptor
			}
			return ""
		})
		st.Close()
		if err != nil {
			rec.Close()
			fmt.Fprintf(e.stderr, "knhk: receipts: %v\n", err)
			return nil, false
		}
		if n > 0 {
			fmt.Fprintf(e.stderr, "receipts: %d events of the log had none; they have now\n", n)
		}
	}
	return rec, true
}

// logEvents calls fn with every event of st in append order, for the
// receipt log's Backfill and Verify.
func logEvents(st *store.Store) func(fn func(string, *engine.Event) error) error {
	return func(fn func(string, *engine.Event) error) error {
		return st.Scan(context.Background(), 0, func(r store.Record) error {
			if r.Kind == engine.SnapshotKind {
				return nil
			}
			ev, err := engine.DecodeEvent(r.Payload)
			if err != nil {
				return fmt.Errorf("record %d: %w", r.Seq, err)
			}
			return fn(r.CaseID, ev)
		})
	}
}

// logEventsFrom is the event source of st for the receipt log's
// Backfill, which scans only the events after the position it reached.
func logEventsFrom(st *store.Store) receipt.EventSource {
	return func(from uint64, fn func(uint64, string, *engine.Event) error) error {
		return st.Scan(context.Background(), store.Seq(from), func(r store.Record) error {
			if r.Kind == engine.SnapshotKind {
				return nil
			}
			ev, err := engine.DecodeEvent(r.Payload)
			if err != nil {
				return fmt.Errorf("record %d: %w", r.Seq, err)
			}
			return fn(uint64(r.Seq), r.CaseID, ev)
		})
	}
}

// receiptLog is log with a receipt recorded for each event when rec is
// not nil.
func receiptLog(rec *receipt.Recorder, log engine.EventLog, prog *ir.Program) engine.EventLog {
	if rec == nil {
		return log
	}
	h, err := prog.Hash()
	if err != nil {
		h = "unknown"
	}
	return rec.Wrap(log, h)
}

// closeReceipts signs the last checkpoint and reports a failure.
func closeReceipts(e *env, rec *receipt.Recorder) {
	if rec == nil {
		return
	}
	if err := rec.Close(); err != nil {
		fmt.Fprintf(e.stderr, "knhk: receipts: %v\n", err)
	}
}

// parseInterval parses a positive Go duration ("500ms", "2s").
func parseInterval(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q (want, say, 500ms or 2s)", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("want a positive duration, got %s", s)
	}
	return d, nil
}

// checkSignPolicy refuses to sign with a key weaker than the policy
// named: a deployment that moved to hybrid or post-quantum signatures
// does not make new classical ones by mistake.
func checkSignPolicy(policy string, k *sign.PrivateKey) error {
	if policy == "" {
		return nil
	}
	p, err := sign.ParsePolicy(policy)
	if err != nil {
		return err
	}
	if !p.Accepts(k.Algorithm()) {
		return fmt.Errorf("policy %s does not sign with a %s key (%s); use a key of a stronger class", p, k.Algorithm().Class(), k.Algorithm())
	}
	return nil
}
