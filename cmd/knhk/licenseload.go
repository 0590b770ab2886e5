// This file implements what the licence commands and flags share:
// reading and verifying a licence file against the issuer keys.

package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/knhk/knhk/runtime/license"
	"github.com/knhk/knhk/runtime/sign"
)

// licenseFlags are --license and --license-trust, on serve and run.
type licenseFlags struct {
	file, trust string
}

func (o *licenseFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&o.file, "license", "", "enforce the licence in `FILE` (docs/licensing.md)")
	fs.StringVar(&o.trust, "license-trust", "", "verify --license against the issuer's public key `KEY` (a .pub file or a directory of them; default $KNHK_LICENSE_TRUST)")
}

// load reads and verifies the licence, nil when --license is not given.
// A licence that does not verify, or is past its grace period, is an
// error: a server does not start on it.
func (o *licenseFlags) load(now time.Time) (*license.License, error) {
	if o.file == "" {
		if o.trust != "" {
			return nil, fmt.Errorf("--license-trust without --license")
		}
		return nil, nil
	}
	trust := o.trust
	if trust == "" {
		trust = os.Getenv("KNHK_LICENSE_TRUST")
	}
	if trust == "" {
		return nil, fmt.Errorf("--license %s: give the issuer's public key with --license-trust (or KNHK_LICENSE_TRUST) to verify it", o.file)
	}
	return readLicense(o.file, trust)
}

// readLicense reads and verifies the licence file against trust.
func readLicense(file, trust string) (*license.License, error) {
	b, err := readSmall(file)
	if err != nil {
		return nil, fmt.Errorf("licence %v", err)
	}
	l, err := license.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("licence %s: %w", file, err)
	}
	ts, err := readIssuers(trust)
	if err != nil {
		return nil, err
	}
	if err := l.Verify(ts); err != nil {
		return nil, fmt.Errorf("licence %s: %w", file, err)
	}
	return l, nil
}

// readIssuers reads the issuer keys: a .pub file or a directory of them.
func readIssuers(path string) (*sign.TrustSet, error) {
	return readPublicKeys(path, "issuer key")
}
