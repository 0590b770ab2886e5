// This file implements where a tenant keeps its own signing key, trust
// directory and licence: each tenant's directory carries them, so that
// the tenant's receipts are signed with its key, its deploys are checked
// against its trust directory, and its licence limits only its cases.
//
//	DIR/tenants/ID/sign.key       the tenant's signing key (receipts, deployed descriptors)
//	DIR/tenants/ID/sign.pub       its public key, for knhk receipts verify --trust
//	DIR/tenants/ID/trust/         *.pub and *.sig: deploys must be signed by these keys
//	DIR/tenants/ID/license.lic    the tenant's licence
//	DIR/tenants/ID/license-trust/ *.pub: the issuer keys the licence is verified against
//
// Each is optional; knhk tenant create and set write them, and bump the
// tenant's Revision so that a running server reopens the tenant with
// them.

package tenant

import (
	"errors"
	"os"
	"path/filepath"
)

// SignKeyPath returns the path of tenant id's signing key.
func SignKeyPath(data, id string) string { return filepath.Join(dirOf(data, id), "sign.key") }

// SignPubPath returns the path of tenant id's signing public key.
func SignPubPath(data, id string) string { return filepath.Join(dirOf(data, id), "sign.pub") }

// TrustDir returns tenant id's trust directory.
func TrustDir(data, id string) string { return filepath.Join(dirOf(data, id), "trust") }

// LicensePath returns the path of tenant id's licence.
func LicensePath(data, id string) string { return filepath.Join(dirOf(data, id), "license.lic") }

// LicenseTrustDir returns the directory of the issuer keys tenant id's
// licence is verified against.
func LicenseTrustDir(data, id string) string {
	return filepath.Join(dirOf(data, id), "license-trust")
}

// Exists reports whether path exists; an error other than its absence
// is returned, so that an unreadable key is not taken for no key.
func Exists(path string) (bool, error) {
	_, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}
