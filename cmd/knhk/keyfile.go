// This file implements what the signing commands share: reading key and
// signature files with errors that name the file, and the descriptor a
// FILE argument stands for.

package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/sign"
)

// maxKeyFile bounds what is read of a key or signature file: the largest
// (an SLH-DSA-128s signature file with several blocks) is well below it.
const maxKeyFile = 1 << 20

func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: unwrapPathError(err)}
	}
	if len(b) > maxKeyFile {
		return nil, fmt.Errorf("%s: more than %d bytes; not a key or signature file", path, maxKeyFile)
	}
	return b, nil
}

// readPrivateKey reads the private key file at path.
func readPrivateKey(path string) (*sign.PrivateKey, error) {
	b, err := readSmall(path)
	if err != nil {
		return nil, err
	}
	k, err := sign.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	return k, nil
}

// readTrust reads --trust: a directory of *.pub files, or one public key
// file, which messages then name as the trust directory.
func readTrust(path string) (*sign.TrustSet, error) {
	t, err := readPublicKeys(path, "--trust")
	if err != nil {
		return nil, err
	}
	t.Dir = path // LoadTrustDir's own, or the one key file
	return t, nil
}

// readPublicKeys reads the public keys at path, a directory of *.pub
// files or one public key file; what names path in messages (--trust,
// issuer key). Every command that trusts keys reads them here, so a
// directory and a file are accepted alike everywhere.
func readPublicKeys(path, what string) (*sign.TrustSet, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if fi.IsDir() {
		return sign.LoadTrustDir(path)
	}
	b, err := readSmall(path)
	if err != nil {
		return nil, err
	}
	k, err := sign.ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	return sign.NewTrustSet(k), nil
}

// sigPath is where the detached signature of a program file lives by
// default: beside it, with ".sig" appended.
func sigPath(file string) string { return file + ".sig" }

// descriptorOf returns the program a signing command's FILE stands for:
// a compiled descriptor (an .ir file as DIR/descriptors keeps them, or
// any file starting with the IR magic) is decoded; anything else is a
// .knhk source, checked, soundness included, and compiled as knhk run
// would.
func descriptorOf(e *env, file string) (*ir.Program, string, int) {
	if b, err := os.ReadFile(file); err == nil && strings.HasPrefix(string(b), ir.Magic) {
		p, err := ir.Decode(b)
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: %s: bad descriptor: %v\n", file, err)
			return nil, "", exitUser
		}
		h, err := p.Hash()
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: %s: %v\n", file, err)
			return nil, "", exitUser
		}
		return p, h, exitOK
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) && filepath.Ext(file) == ".ir" {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return nil, "", exitUser
	}
	c, code := compileFile(e, file)
	if c == nil {
		return nil, "", code
	}
	if !soundGate(e, c) {
		return nil, "", exitUser
	}
	h, err := c.prog.Hash()
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: internal error: %v\n", err)
		return nil, "", exitInternal
	}
	return c.prog, h, exitOK
}

// checkTrusted verifies that the descriptor hash is signed in sigFile by
// a key of trust that policy accepts. The error says which of unsigned,
// tampered or untrusted the descriptor is.
func checkTrusted(trust *sign.TrustSet, policy sign.Policy, sigFile, hash string) (*sign.Signature, error) {
	b, err := readSmall(sigFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("descriptor %s is unsigned: no signature file %s (sign it with knhk sign --key KEY)", hash, sigFile)
	}
	if err != nil {
		return nil, err
	}
	return checkTrustedSigs(trust, policy, b, sigFile, hash)
}

// checkTrustedSigs is checkTrusted of the signature file's contents b,
// read from where.
func checkTrustedSigs(trust *sign.TrustSet, policy sign.Policy, b []byte, sigFile, hash string) (*sign.Signature, error) {
	sigs, err := sign.ParseSignatures(b)
	if err != nil {
		return nil, fmt.Errorf("signature file %s: %w", sigFile, err)
	}
	s, err := trust.VerifyAny(sigs, sign.DomainDescriptor, hash, policy)
	if err != nil {
		return nil, fmt.Errorf("descriptor %s refused: %w", hash, err)
	}
	return s, nil
}
