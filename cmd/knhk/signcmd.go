// This file implements "knhk sign" and "knhk verify": detached
// signatures of compiled descriptors.

package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/knhk/knhk/runtime/sign"
)

var signCmd = &command{
	name:      "sign",
	usageLine: "knhk sign --key KEY [--append] [--policy P] [-o SIG] FILE",
	short:     "sign a compiled descriptor",
	long: `Sign compiles FILE as knhk run would (check and soundness gate included)
and signs its descriptor hash, the SHA-256 that names this version of the
program, with the private key KEY. FILE may also be a compiled
descriptor (DIR/descriptors/HASH.ir). The signature goes to SIG, by
default FILE.sig, where knhk verify and knhk run --trust look for it.

With --append the signature is added to those already in SIG instead of
replacing them: during a migration a descriptor carries, say, an Ed25519
and an ML-DSA signature, and a runtime accepts whichever its policy and
trust directory allow. With --policy P (classical, hybrid or
post-quantum) sign refuses a key of a weaker class.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		key := fs.String("key", "", "sign with the private key in `KEY`")
		out := fs.String("o", "", "write the signature to `SIG` (default FILE.sig)")
		appendSig := fs.Bool("append", false, "add to the signatures already in SIG")
		policy := fs.String("policy", "", "refuse a key weaker than class `P`")
		return func(e *env, args []string) int {
			if len(args) != 1 {
				return usageError(e, "want exactly one FILE, got %d", len(args))
			}
			if *key == "" {
				return usageError(e, "give the private key with --key")
			}
			return runSign(e, *key, *out, *policy, *appendSig, args[0])
		}
	},
}

func runSign(e *env, keyPath, out, policy string, appendSig bool, file string) int {
	k, err := readPrivateKey(keyPath)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	if err := checkSignPolicy(policy, k); err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	_, hash, code := descriptorOf(e, file)
	if code != exitOK {
		return code
	}
	s, err := sign.NewSignature(k, sign.DomainDescriptor, hash)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitInternal
	}
	if out == "" {
		out = sigPath(file)
	}
	sigs := []*sign.Signature{s}
	if appendSig {
		if b, err := os.ReadFile(out); err == nil {
			old, err := sign.ParseSignatures(b)
			if err != nil {
				fmt.Fprintf(e.stderr, "knhk: %s: %v\n", out, err)
				return exitUser
			}
			sigs = append(old, s)
		}
	}
	if err := os.WriteFile(out, sign.MarshalSignatures(sigs...), 0o644); err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	fmt.Fprintf(e.stdout, "descriptor %s signed with %s key %s: %s\n", hash, k.Algorithm(), k.ID(), out)
	return exitOK
}

var verifyCmd = &command{
	name:      "verify",
	usageLine: "knhk verify --trust DIR [--sig SIG] [--policy P] FILE",
	short:     "verify a compiled descriptor's signature",
	long: `Verify compiles FILE (or reads a compiled descriptor) and checks that its
descriptor hash is signed, in SIG (default FILE.sig), by a key of the
trust directory DIR (its *.pub files; DIR may also be one .pub file),
with an algorithm policy P accepts: classical (the default, any
algorithm), hybrid (hybrid or post-quantum) or post-quantum.

It exits with status 0 and names the key when one signature passes, and
with status 1 saying why none did: unsigned (no signature file),
tampered (a signature for another descriptor, or one that does not
verify), untrusted (signed by a key not in DIR) or refused by the policy.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		trust := fs.String("trust", "", "trust the public keys in `DIR`")
		sig := fs.String("sig", "", "read the signatures from `SIG` (default FILE.sig)")
		policy := fs.String("policy", "classical", "accept signatures of class `P` or stronger")
		return func(e *env, args []string) int {
			if len(args) != 1 {
				return usageError(e, "want exactly one FILE, got %d", len(args))
			}
			if *trust == "" {
				return usageError(e, "give the trusted keys with --trust DIR")
			}
			return runVerify(e, *trust, *sig, *policy, args[0])
		}
	},
}

func runVerify(e *env, trustPath, sig, policyName, file string) int {
	policy, err := sign.ParsePolicy(policyName)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	trust, err := readTrust(trustPath)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	_, hash, code := descriptorOf(e, file)
	if code != exitOK {
		return code
	}
	if sig == "" {
		sig = sigPath(file)
	}
	s, err := checkTrusted(trust, policy, sig, hash)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %s: %v\n", file, err)
		return exitUser
	}
	fmt.Fprintf(e.stdout, "%s: descriptor %s signed by %s key %s (trusted)\n", file, hash, s.Alg, s.KeyID)
	return exitOK
}
