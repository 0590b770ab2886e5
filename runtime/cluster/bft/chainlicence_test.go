package bft

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto"

	"github.com/knhk/knhk/runtime/license"
	"github.com/knhk/knhk/runtime/sign"
)

// licenceTx is a licence transaction of b signed by k.
func (c *chain) licenceTx(k crypto.PrivKey, b []byte) []byte {
	tx := &Tx{Kind: KindLicence, Licence: b}
	if err := tx.Sign(k, "c"); err != nil {
		c.t.Fatal(err)
	}
	out, _ := tx.Encode()
	return out
}

// issueLicence returns a deployment licence (tenant "" ) signed by k,
// issued at issued, of one concurrent case and the cluster size size
// (none when 0).
func issueLicence(t *testing.T, k *sign.PrivateKey, id, tenant string, issued time.Time, size int64) []byte {
	t.Helper()
	one := int64(1)
	lim := license.Limits{ConcurrentCases: &one}
	if size > 0 {
		lim.ClusterSize = &size
	}
	b, err := license.Issue(k, license.Payload{Version: license.Version, ID: id, Customer: "c-inc", Tenant: tenant, Tier: "one", Limits: lim, Issued: issued, Expires: issued.Add(30 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestChainLicence: the deployment's licence is taken by the chain
// only when it verifies against the genesis's issuer keys, names no
// tenant and is not older than the one the chain holds; every validator
// then decides the cluster's own starts by it (concurrent cases, the
// validators' count against cluster_size); a chain whose genesis names
// no issuer key takes none.
func TestChainLicence(t *testing.T) {
	vendor, _ := sign.Generate(sign.MLDSA65Ed25519)
	other, _ := sign.Generate(sign.MLDSA65Ed25519)
	c := newChain(t, 3, 3)
	k := c.keys[0]
	t0 := c.t0.Add(-time.Hour)
	good := issueLicence(t, vendor, "l1", "", t0, 0)
	// Without issuer keys in the genesis: refused.
	res := c.block(0, nil, c.lease(k, 1), c.licenceTx(k, good))
	wantCodes(t, res, codeOK, codeLicence)
	if !strings.Contains(res.TxResults[1].Log, "genesis names no licence issuer key") {
		t.Fatal(res.TxResults[1].Log)
	}
	g, _ := json.Marshal(Genesis{LeaseMillis: 1000, LicenceTrust: []string{string(vendor.Public().MarshalPEM())}})
	c = newChain(t, 3, 3)
	for _, a := range c.apps {
		if _, err := a.InitChain(context.Background(), &abci.RequestInitChain{ChainId: "c", Validators: validators(c), AppStateBytes: g}); err != nil {
			t.Fatal(err)
		}
	}
	k = c.keys[0]
	res = c.block(0, nil, c.lease(k, 1),
		c.licenceTx(k, issueLicence(t, other, "l0", "", t0, 0)),      // another issuer
		c.licenceTx(k, issueLicence(t, vendor, "lt", "acme", t0, 0)), // a tenant's
		c.licenceTx(c.keys[1], good),                                 // any validator may offer it
		c.event(k, 1, c.start("c1", 0)),
		c.event(k, 1, c.start("c2", 0)),
		c.licenceTx(k, issueLicence(t, vendor, "l-old", "", t0.Add(-time.Minute), 0)),
	)
	wantCodes(t, res, codeOK, codeLicence, codeLicence, codeOK, codeOK, codeLicence, codeLicence)
	for i, want := range map[int]string{1: "not a trusted issuer key", 2: "tenant acme's", 5: "licence limit concurrent_cases (1, tier one) reached", 6: "issued before the chain's"} {
		if !strings.Contains(res.TxResults[i].Log, want) {
			t.Fatalf("tx %d: %s, want %q", i, res.TxResults[i].Log, want)
		}
	}
	for _, a := range c.apps {
		if l := a.Licence(); l == nil || l.ID != "l1" || a.FSM().Events("c2") != 0 {
			t.Fatalf("the chain's licence %v", l)
		}
	}
	// A newer licence for two validators, on a chain of three: starts
	// are refused naming cluster_size.
	res = c.block(100*time.Millisecond, nil, c.licenceTx(k, issueLicence(t, vendor, "l2", "", t0.Add(time.Minute), 2)), c.event(k, 1, c.start("c3", 0)))
	wantCodes(t, res, codeOK, codeLicence)
	if !strings.Contains(res.TxResults[1].Log, "cluster_size") {
		t.Fatal(res.TxResults[1].Log)
	}
}
