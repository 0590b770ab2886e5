// This file implements the signing flags of knhk serve: --sign-key keeps
// a receipt log of every case the server runs and signs each descriptor
// it deploys (DIR/descriptors/HASH.ir.sig); --trust admits a deploy only
// when a signature of its descriptor by a trusted key is among the
// trust directory's *.sig files.

package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/receipt"
	"github.com/knhk/knhk/runtime/seal"
	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/server"
)

// serveSign are serve's signing flags.
type serveSign struct {
	signKey, trust, policy, interval, unsealKey string
	every                                       int
}

func (o *serveSign) define(fs *flag.FlagSet) {
	fs.StringVar(&o.signKey, "sign-key", "", "keep a receipt log and sign deployed descriptors with the private key `KEY`")
	fs.StringVar(&o.trust, "trust", "", "deploy only descriptors signed (in DIR/*.sig) by a key in `DIR`")
	fs.StringVar(&o.policy, "policy", "classical", "the weakest signature class `P` --trust accepts and --sign-key signs with")
	fs.IntVar(&o.every, "checkpoint-every", receipt.DefaultEvery, "sign a receipt checkpoint every `N` receipts")
	fs.StringVar(&o.interval, "checkpoint-interval", "1s", "sign a receipt checkpoint at least every `D`")
	fs.StringVar(&o.unsealKey, "unseal-key", "", "open sealed task arguments with the sealing key `KEY`")
}

// serveSigning is what serve's signing flags set up.
type serveSigning struct {
	data   string
	key    *sign.PrivateKey
	rec    *receipt.Recorder
	trust  *sign.TrustSet
	policy sign.Policy
	dir    string // the trust directory, whose *.sig files admit deploys
	seal   *seal.PrivateKey
}

// openServeSigning reads the keys and opens the receipt log.
func openServeSigning(e *env, o *serveSign, data string) (*serveSigning, bool) {
	s := &serveSigning{data: data}
	sk, err := readSealKey(o.unsealKey)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: --unseal-key: %v\n", err)
		return nil, false
	}
	s.seal = sk
	if o.trust != "" {
		p, err := sign.ParsePolicy(o.policy)
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
			return nil, false
		}
		fi, err := os.Stat(o.trust)
		if err != nil || !fi.IsDir() {
			fmt.Fprintf(e.stderr, "knhk: --trust %s: want a directory of *.pub keys and *.sig signatures\n", o.trust)
			return nil, false
		}
		if s.trust, err = sign.LoadTrustDir(o.trust); err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
			return nil, false
		}
		s.policy, s.dir = p, o.trust
	}
	if o.signKey != "" {
		ro := signOptions{signKey: o.signKey, every: o.every, interval: o.interval, policy: o.policy}
		rec, ok := openReceipts(e, &ro, data)
		if !ok {
			return nil, false
		}
		s.rec = rec
		k, err := readPrivateKey(o.signKey)
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: --sign-key: %v\n", err)
			return nil, false
		}
		s.key = k
	}
	return s, true
}

// logFor is server.Options.LogFor: nil without receipts.
func (s *serveSigning) logFor() func(engine.EventLog, string) engine.EventLog {
	if s.rec == nil {
		return nil
	}
	return s.rec.Wrap
}

// admit is server.Options.AdmitSigned: nil when there is nothing to
// do. carried is the signature file the deploy sent (knhk run --server
// sends FILE.sig), nil when none.
func (s *serveSigning) admit() func(string, []byte) error {
	if s.trust == nil && s.key == nil {
		return nil
	}
	return func(hash string, carried []byte) error {
		if s.trust != nil {
			if err := s.trustedCarried(hash, carried); err != nil {
				return err
			}
		}
		if s.key != nil {
			return s.signDeployed(hash)
		}
		return nil
	}
}

// trustedCarried admits hash when the signature the deploy carried is
// by a trusted key, or else one in the trust directory is; the refusal
// names the carried signature's fault first.
func (s *serveSigning) trustedCarried(hash string, carried []byte) error {
	if len(carried) == 0 {
		return s.trusted(hash)
	}
	sigs, err := sign.ParseSignatures(carried)
	if err == nil {
		if _, err = s.trust.VerifyAny(sigs, sign.DomainDescriptor, hash, s.policy); err == nil {
			return nil
		}
	}
	if s.trusted(hash) == nil {
		return nil
	}
	return fmt.Errorf("descriptor %s refused: the signature sent with it: %w", hash, err)
}

// trusted looks for a signature of hash by a trusted key among the trust
// directory's *.sig files, read afresh each time so that an operator
// admits a program by dropping its signature in.
func (s *serveSigning) trusted(hash string) error {
	files, _ := filepath.Glob(filepath.Join(s.dir, "*.sig"))
	sort.Strings(files)
	var sigs []*sign.Signature
	var bad []string
	for _, f := range files {
		b, err := readSmall(f)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		ss, err := sign.ParseSignatures(b)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", f, err))
			continue
		}
		for _, x := range ss {
			if x.Subject == hash {
				sigs = append(sigs, x)
			}
		}
	}
	if len(sigs) == 0 {
		msg := fmt.Sprintf("descriptor %s is unsigned: no signature of it in %s/*.sig (sign it with knhk sign --key KEY -o %s/NAME.sig FILE)", hash, s.dir, s.dir)
		if len(bad) > 0 {
			msg += "; unreadable: " + strings.Join(bad, "; ")
		}
		return fmt.Errorf("%s", msg)
	}
	if _, err := s.trust.VerifyAny(sigs, sign.DomainDescriptor, hash, s.policy); err != nil {
		return fmt.Errorf("descriptor %s refused: %w", hash, err)
	}
	return nil
}

// signDeployed writes DIR/descriptors/HASH.ir.sig unless it is there.
func (s *serveSigning) signDeployed(hash string) error {
	dir := filepath.Join(s.data, "descriptors")
	path := sigPath(filepath.Join(dir, hash+".ir"))
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	sig, err := sign.NewSignature(s.key, sign.DomainDescriptor, hash)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, sign.MarshalSignatures(sig), 0o644)
}

// observer is o, wrapping every program's worker so that it opens
// sealed task arguments when --unseal-key is given.
func (s *serveSigning) observer(o server.Observer) server.Observer {
	if s.seal == nil {
		return o
	}
	return &unsealObserver{Observer: o, key: s.seal}
}

// unsealObserver is the server's observer with the unsealing worker
// inside the observer's own (the observer times the task, the
// unsealing included).
type unsealObserver struct {
	server.Observer
	key *seal.PrivateKey
}

func (o *unsealObserver) Worker(w engine.Worker) engine.Worker {
	return o.Observer.Worker(withUnseal(w, o.key))
}

// close signs the receipts' last checkpoint; serve calls it after the
// server has drained.
func (s *serveSigning) close(e *env) { closeReceipts(e, s.rec) }
