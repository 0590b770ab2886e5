// This file implements "knhk keygen" and "knhk key show".

package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/knhk/knhk/runtime/seal"
	"github.com/knhk/knhk/runtime/sign"
)

var keygenCmd = &command{
	name:      "keygen",
	usageLine: "knhk keygen --alg ALG [-o FILE]",
	short:     "generate a signing or sealing key",
	long: `Keygen generates a signing key of algorithm ALG and writes the private
key to FILE (default knhk.key) with mode 0600 and the public key to
FILE.pub. It refuses to overwrite either file. ALG is one of:

  ed25519            classical (RFC 8032)
  mldsa44, mldsa65, mldsa87
                     post-quantum, ML-DSA (FIPS 204)
  slhdsa-sha2-128s, slhdsa-sha2-128f
                     post-quantum, SLH-DSA (FIPS 205); small or fast signatures
  mldsa65-ed25519    hybrid: composite ML-DSA-65 and Ed25519 signatures,
                     both present and both verified
                     (draft-ietf-lamps-pq-composite-sigs)
  xwing              a sealing key, not a signing one: the hybrid KEM
                     X-Wing (X25519 and ML-KEM-768) for knhk seal and
                     knhk run --unseal-key

The key files are PEM-style text described in docs/signing.md. Keep the
private key secret; give FILE.pub to whoever verifies (a --trust
directory holds such files).
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		alg := fs.String("alg", "", "the signature algorithm `ALG`")
		out := fs.String("o", "knhk.key", "write the private key to `FILE` and the public key to FILE.pub")
		return func(e *env, args []string) int {
			if len(args) != 0 {
				return usageError(e, "want no arguments, got %d", len(args))
			}
			if *alg == "" {
				return usageError(e, "give the algorithm with --alg (one of %s)", algList())
			}
			return runKeygen(e, *alg, *out)
		}
	},
}

func algList() string {
	var names []string
	for _, a := range sign.Algorithms() {
		names = append(names, string(a))
	}
	return strings.Join(names, ", ")
}

func runKeygen(e *env, algName, out string) int {
	var priv, pub []byte
	var desc string
	if strings.EqualFold(algName, seal.Algorithm) {
		k, err := seal.GenerateKey()
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
			return exitInternal
		}
		priv, pub, desc = k.MarshalPEM(), k.Public().MarshalPEM(), "xwing sealing key "+k.ID()
	} else {
		alg, err := sign.ParseAlgorithm(algName)
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v, or xwing for a sealing key\n", err)
			return exitUser
		}
		k, err := sign.Generate(alg)
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
			return exitInternal
		}
		priv, pub, desc = k.MarshalPEM(), k.Public().MarshalPEM(), fmt.Sprintf("%s key %s", alg, k.ID())
	}
	for _, p := range []string{out, out + ".pub"} {
		if _, err := os.Lstat(p); err == nil {
			fmt.Fprintf(e.stderr, "knhk: %s exists; keygen does not overwrite keys (remove it or choose another -o)\n", p)
			return exitUser
		}
	}
	if err := writeNew(out, priv, 0o600); err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	if err := writeNew(out+".pub", pub, 0o644); err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	fmt.Fprintf(e.stdout, "%s\nprivate key: %s\npublic key:  %s.pub\n", desc, out, out)
	return exitOK
}

// writeNew creates path with mode perm, failing if it exists, so that a
// private key is never readable by others, not even for a moment.
func writeNew(path string, b []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

var keyCmd = &command{
	name:      "key",
	usageLine: "knhk key show FILE",
	short:     "show a key's algorithm, id and public key",
	long: `Key show reads a private or public key file and prints its algorithm, its
class (classical, hybrid or post-quantum), its key id and the public key
file's text, which can be saved as a .pub file. A damaged or truncated
file is an error saying what is wrong with it.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		return func(e *env, args []string) int {
			if len(args) == 0 || args[0] != "show" {
				return usageError(e, "want a subcommand: show")
			}
			if len(args) != 2 {
				return usageError(e, "want exactly one FILE, got %d", len(args)-1)
			}
			return runKeyShow(e, args[1])
		}
	},
}

func runKeyShow(e *env, path string) int {
	b, err := readSmall(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%s: no such file", path)
		}
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	if bytes.Contains(b, []byte("-----BEGIN "+seal.PublicKeyType)) || bytes.Contains(b, []byte("-----BEGIN "+seal.PrivateKeyType)) {
		k, err := seal.ParsePublicKey(b)
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: key %s: %v\n", path, err)
			return exitUser
		}
		fmt.Fprintf(e.stdout, "algorithm: xwing (hybrid sealing key: X25519 and ML-KEM-768)\nkey id:    %s\n%s", k.ID(), k.MarshalPEM())
		return exitOK
	}
	k, err := sign.ParsePublicKey(b)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: key %s: %v\n", path, err)
		return exitUser
	}
	fmt.Fprintf(e.stdout, "algorithm: %s (%s)\nkey id:    %s\n%s", k.Algorithm(), k.Algorithm().Class(), k.ID(), k.MarshalPEM())
	return exitOK
}
