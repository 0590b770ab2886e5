// This file implements knhk build --sign-key: the descriptor a built
// binary embeds is signed, and the signature written beside the binary
// (APP.sig), where the binary started with --trust DIR looks for it.

package main

import (
	"fmt"
	"os"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/sign"
)

// buildSigner reads the --sign-key of knhk build before anything is
// built, so that a bad key fails fast; nil when none was given.
func buildSigner(e *env, path string) (*sign.PrivateKey, bool) {
	if path == "" {
		return nil, true
	}
	k, err := readPrivateKey(path)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk build: --sign-key: %v\n", err)
		return nil, false
	}
	return k, true
}

// signBuilt writes APP.sig, the signature of prog's descriptor hash by k,
// beside the binary out.
func signBuilt(e *env, k *sign.PrivateKey, prog *ir.Program, out string) int {
	if k == nil {
		return exitOK
	}
	hash, err := prog.Hash()
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: internal error: %v\n", err)
		return exitInternal
	}
	s, err := sign.NewSignature(k, sign.DomainDescriptor, hash)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk build: %v\n", err)
		return exitInternal
	}
	if err := os.WriteFile(sigPath(out), sign.MarshalSignatures(s), 0o644); err != nil {
		fmt.Fprintf(e.stderr, "knhk build: %v\n", err)
		return exitUser
	}
	fmt.Fprintf(e.stderr, "signed descriptor %s with %s key %s: %s\n", hash, k.Algorithm(), k.ID(), sigPath(out))
	return exitOK
}
