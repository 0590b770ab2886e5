// This file implements a tenant's own signing key, trust directory and
// licence (server/tenant's keys.go): knhk tenant create and set copy
// them into the tenant's directory, and knhk serve --tenants opens each
// tenant's Service with its own, so that a tenant's licence limits only
// that tenant and its receipts are signed with its own key.

package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/knhk/knhk/runtime/receipt"
	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/tenant"
)

// tenantKeyFlags are knhk tenant create's and set's flags of a tenant's
// keys and licence. "none" removes what the tenant had.
type tenantKeyFlags struct {
	signKey, trust, license, licenseTrust, policy string
}

func (k *tenantKeyFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&k.signKey, "sign-key", "", "the tenant signs its receipts and deployed descriptors with the private key `KEY` (new: make an mldsa65-ed25519 key; none: stop)")
	fs.StringVar(&k.trust, "trust", "", "the tenant deploys only descriptors signed by a key in `DIR` (its *.pub and *.sig are copied; none: any)")
	fs.StringVar(&k.license, "license", "", "the tenant runs under the licence `FILE` (none: without one)")
	fs.StringVar(&k.licenseTrust, "license-trust", "", "verify --license against the issuer key `KEY` (a .pub file or a directory; default $KNHK_LICENSE_TRUST)")
	fs.StringVar(&k.policy, "policy", "", "the weakest signature class `P` the tenant's --trust accepts and its --sign-key signs with (default classical)")
}

// given reports whether any of the flags is set.
func (k *tenantKeyFlags) given() bool {
	return k.signKey != "" || k.trust != "" || k.license != "" || k.licenseTrust != "" || k.policy != ""
}

// apply copies the keys and licence into tenant t's directory and moves
// its revision, so that a running server reopens it with them. It checks
// everything before it writes anything, so that a bad key or licence
// leaves the tenant as it was.
func (k *tenantKeyFlags) apply(e *env, data string, t *tenant.Tenant) error {
	if !k.given() {
		return nil
	}
	id := t.ID
	policy := t.Policy
	if k.policy != "" {
		if _, err := sign.ParsePolicy(k.policy); err != nil {
			return fmt.Errorf("--policy: %v", err)
		}
		policy = k.policy
	}
	var key *sign.PrivateKey
	switch k.signKey {
	case "", "none":
	case "new":
		var err error
		if key, err = sign.Generate(sign.MLDSA65Ed25519); err != nil {
			return err
		}
	default:
		var err error
		if key, err = readPrivateKey(k.signKey); err != nil {
			return fmt.Errorf("--sign-key: %v", err)
		}
	}
	if key != nil {
		if err := checkSignPolicy(policy, key); err != nil {
			return fmt.Errorf("--sign-key: %v", err)
		}
	}
	var trustFiles map[string][]byte
	if k.trust != "" && k.trust != "none" {
		var err error
		if trustFiles, err = trustCopy(k.trust); err != nil {
			return err
		}
	}
	var lic []byte
	var licTrust map[string][]byte
	if k.license != "" && k.license != "none" {
		trust := k.licenseTrust
		if trust == "" {
			trust = os.Getenv("KNHK_LICENSE_TRUST")
		}
		if trust == "" {
			return fmt.Errorf("--license %s: give the issuer's public key with --license-trust (or KNHK_LICENSE_TRUST) to verify it", k.license)
		}
		l, err := readLicense(k.license, trust)
		if err != nil {
			return err
		}
		if l.Tenant != "" && l.Tenant != id {
			return fmt.Errorf("licence %s is for tenant %s, not %s", k.license, l.Tenant, id)
		}
		if lic, err = readSmall(k.license); err != nil {
			return err
		}
		if licTrust, err = pubCopy(trust); err != nil {
			return err
		}
	} else if k.licenseTrust != "" {
		return errors.New("--license-trust without --license")
	}

	dir := filepath.Dir(tenant.SignKeyPath(data, id))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	switch {
	case k.signKey == "none":
		os.Remove(tenant.SignKeyPath(data, id))
		os.Remove(tenant.SignPubPath(data, id))
	case key != nil:
		if err := writeTenantFile(tenant.SignKeyPath(data, id), key.MarshalPEM(), 0o600); err != nil {
			return err
		}
		if err := writeTenantFile(tenant.SignPubPath(data, id), key.Public().MarshalPEM(), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "tenant %s signs with %s key %s (public key %s)\n", id, key.Algorithm(), key.ID(), tenant.SignPubPath(data, id))
	}
	if k.trust != "" {
		if err := replaceDir(tenant.TrustDir(data, id), trustFiles); err != nil {
			return err
		}
	}
	if k.license != "" {
		if err := replaceDir(tenant.LicenseTrustDir(data, id), licTrust); err != nil {
			return err
		}
		if lic == nil {
			os.Remove(tenant.LicensePath(data, id))
		} else if err := writeTenantFile(tenant.LicensePath(data, id), lic, 0o644); err != nil {
			return err
		}
	}
	t.Policy = policy
	t.Revision++
	return nil
}

// trustCopy reads a trust directory's *.pub and *.sig files (or one .pub
// file) and checks that its keys parse.
func trustCopy(path string) (map[string][]byte, error) {
	if _, err := readPublicKeys(path, "--trust"); err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		b, err := readSmall(path)
		if err != nil {
			return nil, err
		}
		return map[string][]byte{filepath.Base(path): b}, nil
	}
	out := map[string][]byte{}
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	for _, ent := range ents {
		if ent.IsDir() || !strings.HasSuffix(ent.Name(), ".pub") && !strings.HasSuffix(ent.Name(), ".sig") {
			continue
		}
		b, err := readSmall(filepath.Join(path, ent.Name()))
		if err != nil {
			return nil, err
		}
		out[ent.Name()] = b
	}
	return out, nil
}

// pubCopy reads the public keys at path (a .pub file or a directory).
func pubCopy(path string) (map[string][]byte, error) {
	files, err := trustCopy(path)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for name, b := range files {
		switch {
		case strings.HasSuffix(name, ".pub"):
			out[name] = b
		case !strings.HasSuffix(name, ".sig"):
			out[name+".pub"] = b // one key file named otherwise
		}
	}
	return out, nil
}

// replaceDir makes dir hold exactly files (nil: removes dir).
func replaceDir(dir string, files map[string][]byte) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if files == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writeTenantFile writes b to path through a temporary file.
func writeTenantFile(path string, b []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, perm); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// tenantSecurity is what a tenant's directory carries, opened for its
// Service: its signing (receipts, deploy trust) and its licence.
type tenantSecurity struct {
	id   string
	sg   *serveSigning
	lic  *serveLicense
	errs io.Writer
}

// openTenantSecurity reads tenant id's keys and licence from its
// directory under data; dir is its data directory.
func openTenantSecurity(data, id, dir string, logger *slog.Logger) (*tenantSecurity, error) {
	ts := &tenantSecurity{id: id, errs: logLines{logger}}
	reg, err := tenant.Load(data)
	if err != nil {
		return nil, err
	}
	o := serveSign{policy: "classical", every: receipt.DefaultEvery, interval: "1s"}
	if t := reg.Get(id); t != nil && t.Policy != "" {
		o.policy = t.Policy
	}
	if ok, err := tenant.Exists(tenant.SignKeyPath(data, id)); err != nil {
		return nil, err
	} else if ok {
		o.signKey = tenant.SignKeyPath(data, id)
	}
	if ok, err := tenant.Exists(tenant.TrustDir(data, id)); err != nil {
		return nil, err
	} else if ok {
		o.trust = tenant.TrustDir(data, id)
	}
	var msgs bytes.Buffer
	sg, ok := openServeSigning(&env{stderr: &msgs}, &o, dir)
	if !ok {
		return nil, fmt.Errorf("tenant %s: %s", id, strings.TrimSpace(strings.TrimPrefix(msgs.String(), "knhk: ")))
	}
	ts.sg = sg
	if err := ts.openLicense(data, dir, logger); err != nil {
		ts.close()
		return nil, fmt.Errorf("tenant %s: %w", id, err)
	}
	return ts, nil
}

// openLicense enforces the tenant's licence, when its directory has one.
func (ts *tenantSecurity) openLicense(data, dir string, logger *slog.Logger) error {
	id := ts.id
	ok, err := tenant.Exists(tenant.LicensePath(data, id))
	if err != nil {
		return err
	}
	if !ok {
		ts.lic, err = unlicensed(dir, id, logger)
		return err
	}
	lf := licenseFlags{file: tenant.LicensePath(data, id), trust: tenant.LicenseTrustDir(data, id)}
	if ok, _ := tenant.Exists(lf.trust); !ok {
		lf.trust = ""
	}
	l, err := lf.load(time.Now())
	if err != nil {
		return err
	}
	if l.Tenant != "" && l.Tenant != id {
		return fmt.Errorf("licence %s is for tenant %s", lf.file, l.Tenant)
	}
	ts.lic, err = newServeLicense(l, lf.file, dir, id, logger)
	return err
}

// options hooks the tenant's signing and licence into its Service's
// options; admit is the tenant's running-case cap, asked before the
// licence.
func (ts *tenantSecurity) options(o server.Options, admit func(string) (func(), error)) server.Options {
	o.Observer = ts.sg.observer(o.Observer)
	o.LogFor = ts.sg.logFor()
	o.AdmitSigned = ts.sg.admit()
	o.AdmitStart = admit
	o = ts.lic.options(o)
	if ts.lic.enf != nil && admit != nil {
		o.AdmitStart = bothAdmit(admit, o.AdmitStart)
	}
	return o
}

// bothAdmit admits a start that a and b both admit.
func bothAdmit(a, b func(string) (func(), error)) func(string) (func(), error) {
	return func(wf string) (func(), error) {
		ra, err := a(wf)
		if err != nil {
			return nil, err
		}
		rb, err := b(wf)
		if err != nil {
			ra()
			return nil, err
		}
		return func() { ra(); rb() }, nil
	}
}

// close signs the tenant's last receipt checkpoint, after its Service
// closed.
func (ts *tenantSecurity) close() {
	ts.sg.close(&env{stderr: ts.errs})
	if err := ts.lic.close(); err != nil {
		fmt.Fprintf(ts.errs, "tenant %s: accelerator ledger: %v\n", ts.id, err)
	}
}

// logLines is a writer whose every write is a warning of logger.
type logLines struct{ logger *slog.Logger }

func (l logLines) Write(b []byte) (int, error) {
	l.logger.Warn(strings.TrimSpace(strings.TrimPrefix(string(b), "knhk: ")))
	return len(b), nil
}
