// This file implements knhk build --sign-key: the descriptor a built
// binary embeds is signed, the signature embedded in the binary itself
// (so it travels with it) and also written beside it (APP.sig, for knhk
// verify and for signatures added later with knhk sign --append). The
// binary started with --trust DIR checks both.

package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"strings"

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

// embeddedSig is the signature file of the descriptor a built binary
// carries, base64-encoded; knhk build --sign-key sets it through the
// linker (-X), because the signature must exist before the binary does.
// Empty in knhk itself and in unsigned builds.
var embeddedSig string

// signForBuild signs prog's descriptor hash with k, before the binary
// is built; nil when k is nil.
func signForBuild(e *env, k *sign.PrivateKey, prog *ir.Program) ([]byte, int) {
	if k == nil {
		return nil, exitOK
	}
	hash, err := prog.Hash()
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: internal error: %v\n", err)
		return nil, exitInternal
	}
	s, err := sign.NewSignature(k, sign.DomainDescriptor, hash)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk build: %v\n", err)
		return nil, exitInternal
	}
	return sign.MarshalSignatures(s), exitOK
}

// linkFlags are the go build flags of the link: -w unless dwarf (no
// DWARF: the link of knhk's size takes half the time), and the
// signature file sig embedded in the binary when there is one. go build
// takes one -ldflags, so both go in it.
func linkFlags(sig []byte, dwarf bool) []string {
	var ld []string
	if !dwarf {
		ld = append(ld, "-w")
	}
	if sig != nil {
		ld = append(ld, "-X main.embeddedSig="+base64.StdEncoding.EncodeToString(sig))
	}
	if len(ld) == 0 {
		return nil
	}
	return []string{"-ldflags=" + strings.Join(ld, " ")}
}

// signBuilt writes APP.sig, the signature file sig (embedded in the
// binary out too), beside out.
func signBuilt(e *env, sig []byte, prog *ir.Program, out string) int {
	if sig == nil {
		return exitOK
	}
	hash, _ := prog.Hash()
	if err := os.WriteFile(sigPath(out), sig, 0o644); err != nil {
		fmt.Fprintf(e.stderr, "knhk build: %v\n", err)
		return exitUser
	}
	fmt.Fprintf(e.stderr, "signed descriptor %s: signature embedded in %s and written to %s\n", hash, out, sigPath(out))
	return exitOK
}

// appSignatures returns the signatures of a built binary's descriptor:
// the one embedded in it and those in APP.sig beside it, and where they
// were looked for.
func appSignatures(exe string) ([]byte, string, error) {
	var all []byte
	if embeddedSig != "" {
		b, err := base64.StdEncoding.DecodeString(embeddedSig)
		if err != nil {
			return nil, "", fmt.Errorf("the signature embedded in %s does not decode: %v", exe, err)
		}
		all = append(all, b...)
	}
	b, err := readSmall(sigPath(exe))
	if err == nil {
		all = append(all, b...)
	} else if !os.IsNotExist(err) {
		return nil, "", err
	}
	return all, "embedded in the binary nor in " + sigPath(exe), nil
}
