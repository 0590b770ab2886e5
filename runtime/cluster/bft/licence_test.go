package bft

import (
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/license"
	"github.com/knhk/knhk/runtime/sign"
)

// licenceFiles returns the tenancy files of tenant id's licence of one
// concurrent case, expiring at exp, signed by a new issuer key (and
// another, untrusted, key's public half when wrongKey).
func licenceFiles(t *testing.T, id string, exp time.Time, wrongKey bool) map[string][]byte {
	t.Helper()
	k, err := sign.Generate(sign.MLDSA65Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	one := int64(1)
	b, err := license.Issue(k, license.Payload{Version: license.Version, ID: "l-" + id, Customer: id + "-inc", Tenant: id, Tier: "one",
		Limits: license.Limits{ConcurrentCases: &one}, Issued: exp.Add(-48 * time.Hour), Expires: exp})
	if err != nil {
		t.Fatal(err)
	}
	pub := k.Public()
	if wrongKey {
		other, _ := sign.Generate(sign.MLDSA65Ed25519)
		pub = other.Public()
	}
	return map[string][]byte{id + "/license.lic": b, id + "/license-trust/vendor.pub": pub.MarshalPEM()}
}

// TestTenantLicenceOnChain: a tenant's licence in the chain's tenancy
// is enforced by every validator alike at each start of its space: a
// second concurrent case is refused naming the limit, the running case
// goes on, and once it ends a start is admitted again; a licence past
// its grace period at the block's time refuses starts; a licence that
// does not verify refuses every start of its tenant; another tenant is
// not limited.
func TestTenantLicenceOnChain(t *testing.T) {
	c := newChain(t, 3, 3)
	k := c.keys[0]
	exp := c.t0.Add(time.Hour)
	found := c.found(0, "acme", "beta", "gamma")
	for p, b := range licenceFiles(t, "acme", exp, false) {
		found.Tenancy.Files[p] = b
	}
	for p, b := range licenceFiles(t, "gamma", exp, true) {
		found.Tenancy.Files[p] = b
	}
	c.block(0, nil, c.lease(k, 1), c.event(k, 1, found))
	res := c.block(100*time.Millisecond, nil,
		c.tenantEvent(k, 1, "acme", c.start("a1", 0)),
		c.tenantEvent(k, 1, "acme", c.start("a2", 0)),
		c.tenantEvent(k, 1, "beta", c.start("b1", 0)),
		c.tenantEvent(k, 1, "beta", c.start("b2", 0)),
		c.tenantEvent(k, 1, "gamma", c.start("g1", 0)),
	)
	wantCodes(t, res, codeOK, codeLicence, codeOK, codeOK, codeLicence)
	if l := res.TxResults[1].Log; !strings.Contains(l, "concurrent_cases") || !strings.Contains(l, "tier one") {
		t.Fatalf("acme's second start: %s", l)
	}
	if l := res.TxResults[4].Log; !strings.Contains(l, "not a trusted issuer key") {
		t.Fatalf("gamma's start under a licence that does not verify: %s", l)
	}
	// The running case goes on; once it ends a start is admitted.
	cancel := &cluster.Command{Op: cluster.OpEvent, Program: c.prog, Case: "a1", Pos: 1, Event: cancelEvent(t)}
	res = c.block(200*time.Millisecond, nil, c.tenantEvent(k, 1, "acme", cancel), c.tenantEvent(k, 1, "acme", c.start("a2", 0)))
	wantCodes(t, res, codeOK, codeOK)
	// Past its grace period (none) at the block's time: refused.
	res = c.block(exp.Sub(c.t0)+time.Second, nil, c.lease(k, 1), c.tenantEvent(k, 1, "acme", c.start("a3", 0)))
	wantCodes(t, res, codeOK, codeLicence)
	if l := res.TxResults[1].Log; !strings.Contains(l, "expired") {
		t.Fatalf("a start after expiry: %s", l)
	}
}

// cancelEvent is an encoded cancellation.
func cancelEvent(t *testing.T) []byte {
	b, err := engine.EncodeEvent(&engine.Event{Kind: engine.EvCancel})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
