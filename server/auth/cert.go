// This file implements principals from verified TLS client certificates.

package auth

import (
	"crypto/x509"
	"fmt"
)

// FromCertificate returns the principal of a client certificate that TLS
// has already verified against the server's client CAs (knhk serve
// --tls-client-ca): the tenant is the subject's first Organization (O),
// the role its first OrganizationalUnit (OU), the subject its
// CommonName (CN).
func FromCertificate(c *x509.Certificate) (Principal, error) {
	if len(c.Subject.Organization) == 0 {
		return Principal{}, fmt.Errorf("%w: client certificate %q names no tenant (subject O)", ErrUnauthenticated, c.Subject.CommonName)
	}
	if len(c.Subject.OrganizationalUnit) == 0 {
		return Principal{}, fmt.Errorf("%w: client certificate %q names no role (subject OU)", ErrUnauthenticated, c.Subject.CommonName)
	}
	role, err := ParseRole(c.Subject.OrganizationalUnit[0])
	if err != nil {
		return Principal{}, fmt.Errorf("%w: client certificate %q: %v", ErrUnauthenticated, c.Subject.CommonName, err)
	}
	return Principal{Subject: c.Subject.CommonName, Tenant: c.Subject.Organization[0], Role: role}, nil
}
