// This file implements the data directory's composite issuer key: the
// ML-DSA-65+Ed25519 key knhk tenant signs knhk tokens (server/auth's
// ktoken.go) with, beside the Ed25519 key of its JWTs.

package tenant

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/server/auth"
)

func signerPath(data string) string { return filepath.Join(Dir(data), "issuer-pq.key") }

// SignerPubPath returns the path of the composite public key knhk serve
// --tenants trusts for the knhk tokens knhk tenant signs.
func SignerPubPath(data string) string { return filepath.Join(Dir(data), "issuer-pq.pub") }

// SignerKey returns the data directory's composite token-signing key,
// making it (0600, beside its public key) on first use.
func SignerKey(data string) (*sign.PrivateKey, error) {
	return KeyAt(signerPath(data), SignerPubPath(data), auth.TokenAlg)
}

// KeyAt returns the private key of algorithm alg at path, making it on
// first use (0600, its directory 0700) with its public key at pub.
func KeyAt(path, pub string, alg sign.Algorithm) (*sign.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := sign.ParsePrivateKey(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if k.Algorithm() != alg {
			return nil, fmt.Errorf("%s: an %s key, want %s", path, k.Algorithm(), alg)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	k, err := sign.Generate(alg)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(pub, k.Public().MarshalPEM(), 0o644); err != nil {
		return nil, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, k.MarshalPEM(), 0o600); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, err
	}
	return k, nil
}
