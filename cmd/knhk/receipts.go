// This file implements "knhk receipts": verify a data directory's
// receipt log, prove a case's receipts, check a proof offline.

package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/knhk/knhk/runtime/receipt"
	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/runtime/store"
)

var receiptsCmd = &command{
	name:      "receipts",
	usageLine: "knhk receipts verify [--data DIR] [--trust DIR] [--policy P] | prove [--data DIR] [-o FILE] CASE | check-proof --trust DIR [--policy P] FILE | dump [--data DIR]",
	short:     "verify the receipt log, prove a case's receipts, check a proof",
	long: `Receipts works on the receipt log that knhk run --sign-key KEY keeps in
the data directory (--data, default ./.knhk): one receipt per transition
of every case, the leaves of an RFC 6962 Merkle tree, with checkpoints
(tree size and root) signed with KEY every --checkpoint-every receipts or
--checkpoint-interval, and when the run ends.

  knhk receipts verify checks every receipt's hash, sequence number and
  chain (to the previous receipt and to the previous receipt of its
  case), every checkpoint's signature and that its root is the Merkle
  root of the receipts it covers, and that each receipt's event digest
  matches its case's event in the event log. On damage or tampering it names the
  first receipt that cannot be trusted and exits with status 1. With
  --trust DIR the checkpoints must be signed by keys in DIR (*.pub);
  without it the keys the runtime stored beside the log are used, which
  shows that the log is unchanged since it was signed, not who signed it.

  knhk receipts prove CASE writes (to standard output, or -o FILE) a
  proof for an auditor: the case's receipts, each with its inclusion
  proof in the latest signed checkpoint, and a consistency proof from an
  earlier checkpoint to it.

  knhk receipts check-proof --trust DIR FILE checks such a proof offline:
  the signatures with the keys in DIR, every receipt's hash and inclusion,
  that the receipts follow each other within the case, and the
  consistency proof.

  knhk receipts dump writes the stored receipts as JSON lines, one per
  receipt (the log itself is binary); the output is a receipt log in the
  earlier JSON format, which verify still reads.

--policy P (classical, hybrid or post-quantum) is the weakest signature
class accepted; a log signed under an earlier, weaker policy verifies
with that policy.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		data := fs.String("data", ".knhk", "the data `DIR`")
		trust := fs.String("trust", "", "trust the public keys in `DIR`")
		policy := fs.String("policy", "classical", "accept signatures of class `P` or stronger")
		out := fs.String("o", "", "write the proof to `FILE`")
		return func(e *env, args []string) int {
			if len(args) == 0 {
				return usageError(e, "want a subcommand: verify, prove, check-proof or dump")
			}
			pol, err := sign.ParsePolicy(*policy)
			if err != nil {
				return usageError(e, "%v", err)
			}
			sub, rest := args[0], args[1:]
			switch sub {
			case "verify":
				if len(rest) != 0 {
					return usageError(e, "verify takes no arguments, got %d", len(rest))
				}
				return runReceiptsVerify(e, *data, *trust, pol)
			case "prove":
				if len(rest) != 1 {
					return usageError(e, "prove wants exactly one CASE, got %d", len(rest))
				}
				return runReceiptsProve(e, *data, rest[0], *out)
			case "check-proof":
				if len(rest) != 1 {
					return usageError(e, "check-proof wants exactly one FILE, got %d", len(rest))
				}
				if *trust == "" {
					return usageError(e, "check-proof needs the signer's public keys: --trust DIR")
				}
				return runCheckProof(e, *trust, pol, rest[0])
			case "dump":
				if len(rest) != 0 {
					return usageError(e, "dump takes no arguments, got %d", len(rest))
				}
				if err := receipt.Dump(*data, e.stdout); err != nil {
					fmt.Fprintf(e.stderr, "knhk: receipts dump: %v\n", err)
					return 1
				}
				return 0
			}
			return usageError(e, "unknown subcommand %q (want verify, prove, check-proof or dump)", sub)
		}
	},
}

func runReceiptsVerify(e *env, data, trustPath string, policy sign.Policy) int {
	var o receipt.VerifyOptions
	o.Policy = policy
	if trustPath != "" {
		t, err := readTrust(trustPath)
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
			return exitUser
		}
		o.Trust = t
	}
	// The receipts are compared with the event log when the data
	// directory has one (an auditor may hold the receipts alone).
	if st, err := store.OpenReadOnly(data, store.Options{}); err == nil {
		defer st.Close()
		o.Events = withAnchors(data, logEvents(st)) // the audit anchors' receipts (auditserve.go)
	}
	rep, err := receipt.Verify(data, o)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	if p := rep.Problem; p != nil {
		fmt.Fprintf(e.stdout, "%s: %d receipts verified, %d checkpoints\n", data, rep.Receipts, rep.Checkpoints)
		fmt.Fprintf(e.stderr, "knhk: receipt log of %s: %v\n", data, p)
		if !p.NoSeq {
			fmt.Fprintf(e.stderr, "first bad receipt: %d\n", p.Seq)
		}
		return exitUser
	}
	fmt.Fprintf(e.stdout, "%s: %d receipts of %d cases verified; %d checkpoints signed by %s\n", data, rep.Receipts, rep.Cases, rep.Checkpoints, keyList(rep.Keys))
	if rep.EventsChecked {
		fmt.Fprintf(e.stdout, "every receipt matches its event in the event log\n")
		if rep.Unreceipted > 0 {
			fmt.Fprintf(e.stdout, "%d cases have events after their last receipt (continued without --sign-key, or still running)\n", rep.Unreceipted)
		}
	} else {
		fmt.Fprintf(e.stdout, "no event log in %s: the receipts were not compared with events\n", data)
	}
	if rep.Signed < rep.Receipts {
		fmt.Fprintf(e.stdout, "receipts %d to %d are not covered by a signed checkpoint yet (a run still going, or one that died)\n", rep.Signed, rep.Receipts-1)
	}
	if rep.Cut {
		fmt.Fprintf(e.stdout, "the log ends in a line cut by a crash; the next run drops it\n")
	}
	if !rep.Anchored {
		fmt.Fprintf(e.stdout, "keys from the log itself: give --trust DIR to check who signed\n")
	}
	return exitOK
}

func keyList(ids []string) string {
	if len(ids) == 0 {
		return "no key"
	}
	return "key " + strings.Join(ids, ", ")
}

func runReceiptsProve(e *env, data, caseID, out string) int {
	p, err := receipt.Prove(data, caseID)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: internal error: %v\n", err)
		return exitInternal
	}
	b = append(b, '\n')
	if out == "" {
		e.stdout.Write(b)
		return exitOK
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	fmt.Fprintf(e.stderr, "proof of %d receipts of case %s in checkpoint of size %d: %s\n", len(p.Receipts), caseID, p.Checkpoint.Size, out)
	return exitOK
}

func runCheckProof(e *env, trustPath string, policy sign.Policy, file string) int {
	trust, err := readTrust(trustPath)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	b, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	p, err := receipt.DecodeProof(b)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %s: %v\n", file, err)
		return exitUser
	}
	rep, err := receipt.CheckProof(p, trust, policy)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %s: proof refused: %v\n", file, err)
		return exitUser
	}
	fmt.Fprintf(e.stdout, "%s: %d receipts of case %s are in the log of %d receipts (root %s) signed by %s key %s\n", file, rep.Receipts, rep.Case, rep.Size, rep.Root, rep.Alg, rep.Key)
	if rep.Earlier > 0 {
		fmt.Fprintf(e.stdout, "the log signed at %d receipts is a prefix of it\n", rep.Earlier)
	}
	if rep.Complete {
		fmt.Fprintf(e.stdout, "the receipts start at the case's start\n")
	}
	return exitOK
}
