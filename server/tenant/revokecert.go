// This file extends a tenant's revocation list (revoke.go) to client
// certificates: knhk tenant revoke --cert-serial HEX ID refuses the
// certificate of that serial number on mTLS calls of tenant ID (the
// certificate's O). The server checks it on every call, as TLS verifies
// the chain but knows no revocation (no CRL or OCSP is read).

package tenant

import (
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// RevokedCert is one revoked client certificate, by serial number:
// lower-case hex without leading zeros or separators.
type RevokedCert struct {
	Serial  string    `json:"serial"`
	Revoked time.Time `json:"revoked"`
}

// ErrCertRevoked is wrapped by every refusal of a revoked certificate.
var ErrCertRevoked = errors.New("certificate revoked")

// ParseSerial reads a certificate serial number in hex, as openssl x509
// -serial ("serial=0A1B…") or a browser ("0a:1b:…") prints it, and
// returns it normalised: lower case, no separators, no leading zeros.
func ParseSerial(s string) (string, error) {
	h := strings.TrimSpace(s)
	h = strings.TrimPrefix(h, "serial=")
	h = strings.TrimPrefix(strings.TrimPrefix(h, "0x"), "0X")
	h = strings.NewReplacer(":", "", " ", "").Replace(h)
	n, ok := new(big.Int).SetString(h, 16)
	if h == "" || !ok || n.Sign() < 0 {
		return "", fmt.Errorf("certificate serial %q is not a hexadecimal number", s)
	}
	return n.Text(16), nil
}

// serialOf is c's serial in the list's form.
func serialOf(c *x509.Certificate) string {
	if c.SerialNumber == nil {
		return ""
	}
	return c.SerialNumber.Text(16)
}

// RevokeCertificate adds the certificate of serial hex (idempotent).
func (r *Revocations) RevokeCertificate(hex string, now time.Time) error {
	serial, err := ParseSerial(hex)
	if err != nil {
		return err
	}
	for _, c := range r.Certificates {
		if c.Serial == serial {
			return nil
		}
	}
	r.Certificates = append(r.Certificates, RevokedCert{Serial: serial, Revoked: now.UTC()})
	return nil
}

// CheckCertificate refuses c, a client certificate of tenant, when r
// revokes its serial number.
func (r *Revocations) CheckCertificate(tenant string, c *x509.Certificate) error {
	if r == nil {
		return nil
	}
	s := serialOf(c)
	for _, rc := range r.Certificates {
		if rc.Serial == s {
			return fmt.Errorf("%w: client certificate %q (serial %s) of tenant %s was revoked at %s", ErrCertRevoked, c.Subject.CommonName, s, tenant, rc.Revoked.Format(time.RFC3339))
		}
	}
	return nil
}

// validCerts checks the list's certificate entries as parsed.
func (r *Revocations) validCerts(path string) error {
	for i, c := range r.Certificates {
		n, err := ParseSerial(c.Serial)
		if err != nil {
			return fmt.Errorf("%s: certificate %d: %v", path, i, err)
		}
		if n != c.Serial {
			return fmt.Errorf("%s: certificate %d: serial %q is not in the list's form %q", path, i, c.Serial, n)
		}
	}
	return nil
}

// checkCert refuses c, a client certificate of tenant, when tenant's
// list revokes it.
func (v *revocations) checkCert(tenant string, c *x509.Certificate) error {
	return v.list(tenant).CheckCertificate(tenant, c)
}
