package license

import (
	"bytes"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/sign"
)

var (
	keyOnce sync.Once
	vendor  *sign.PrivateKey
)

func vendorKey(t testing.TB) *sign.PrivateKey {
	keyOnce.Do(func() {
		k, err := sign.Generate(Alg)
		if err != nil {
			panic(err)
		}
		vendor = k
	})
	return vendor
}

const tiersJSON = `{"version":1,"tiers":{
 "team":{"programs":2,"concurrent_cases":3,"transitions_per_month":100,"cluster_size":1,"grace_days":7},
 "enterprise":{"accelerator":true,"grace_days":30}}}`

var t0 = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func payload(t testing.TB, tier string) Payload {
	ts, err := ParseTiers([]byte(tiersJSON))
	if err != nil {
		t.Fatal(err)
	}
	l, err := ts.Tier(tier)
	if err != nil {
		t.Fatal(err)
	}
	return Payload{ID: "0123abcd", Customer: "acme", Tier: tier, Limits: l, Issued: t0, Expires: t0.AddDate(0, 1, 0)}
}

func issue(t testing.TB, p Payload) []byte {
	b, err := Issue(vendorKey(t), p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestIssueParseVerify(t *testing.T) {
	b := issue(t, payload(t, "team"))
	l, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Verify(sign.NewTrustSet(vendorKey(t).Public())); err != nil {
		t.Fatal(err)
	}
	if l.Customer != "acme" || l.Tier != "team" || *l.Limits.ConcurrentCases != 3 || l.Limits.GraceDays != 7 || l.Limits.Accelerator {
		t.Errorf("round trip lost fields: %+v", l.Payload)
	}
	if !l.Expires.Equal(t0.AddDate(0, 1, 0)) {
		t.Errorf("expires %v", l.Expires)
	}
	e, err := Parse(issue(t, payload(t, "enterprise")))
	if err != nil {
		t.Fatal(err)
	}
	if e.Limits.Programs != nil || !e.Limits.Accelerator {
		t.Errorf("enterprise limits %+v: want unlimited programs and accelerators", e.Limits)
	}
}

// TestRefused walks the attacks of issue 15: tampered, other issuer,
// wrong algorithm, another domain's signature, damaged files.
func TestRefused(t *testing.T) {
	good := issue(t, payload(t, "team"))
	trust := sign.NewTrustSet(vendorKey(t).Public())

	// Tampered: the payload raised to more cases, signature unchanged.
	blk, rest := pem.Decode(good)
	blk.Bytes = bytes.Replace(blk.Bytes, []byte(`"concurrent_cases":3`), []byte(`"concurrent_cases":9`), 1)
	tampered := append(pem.EncodeToMemory(blk), rest...)
	if _, err := Parse(tampered); err == nil || !strings.Contains(err.Error(), "tampered") {
		t.Errorf("tampered licence: got %v", err)
	}

	// Another issuer: a composite key that is not trusted.
	other, err := sign.Generate(Alg)
	if err != nil {
		t.Fatal(err)
	}
	ob, err := Issue(other, payload(t, "team"))
	if err != nil {
		t.Fatal(err)
	}
	ol, err := Parse(ob)
	if err != nil {
		t.Fatal(err)
	}
	if err := ol.Verify(trust); err == nil || !strings.Contains(err.Error(), "not a trusted issuer") {
		t.Errorf("other issuer: got %v", err)
	}

	// Wrong algorithm: Issue refuses it, and a hand-made one is refused on
	// verify even by a trust set holding the key.
	ed, err := sign.Generate(sign.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Issue(ed, payload(t, "team")); err == nil || !strings.Contains(err.Error(), string(Alg)) {
		t.Errorf("issue with ed25519: got %v", err)
	}
	edLic := resign(t, good, ed, Domain)
	l, err := Parse(edLic)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Verify(sign.NewTrustSet(ed.Public())); err == nil || !strings.Contains(err.Error(), "must be signed with") {
		t.Errorf("ed25519 licence: got %v", err)
	}

	// A descriptor signature over the same subject is not a licence
	// signature.
	if _, err := Parse(resign(t, good, vendorKey(t), sign.DomainDescriptor)); err == nil || !strings.Contains(err.Error(), "license/v1") {
		t.Errorf("descriptor-domain signature: got %v", err)
	}

	// A signature that names the trusted key but does not verify.
	l, err = Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	l.Sig.Sig[10] ^= 1
	if err := l.Verify(trust); !errors.Is(err, sign.ErrBadSignature) {
		t.Errorf("flipped signature bit: got %v", err)
	}

	for name, in := range map[string]string{
		"empty":       "",
		"no sig":      string(pem.EncodeToMemory(blk)),
		"wrong block": strings.Replace(string(good), "KNHK LICENSE", "KNHK PUBLIC KEY", 2),
		"version":     strings.Replace(string(good), "Version: 1", "Version: 2", 1),
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

// resign replaces the signature of licence file b by one of k under d.
func resign(t *testing.T, b []byte, k *sign.PrivateKey, d sign.Domain) []byte {
	t.Helper()
	blk, _ := pem.Decode(b)
	s, err := sign.NewSignature(k, d, Subject(blk.Bytes))
	if err != nil {
		t.Fatal(err)
	}
	return append(pem.EncodeToMemory(blk), sign.MarshalSignatures(s)...)
}

func TestTiersRefused(t *testing.T) {
	for name, in := range map[string]string{
		"misspelt limit": `{"version":1,"tiers":{"a":{"concurent_cases":3}}}`,
		"negative":       `{"version":1,"tiers":{"a":{"programs":-1}}}`,
		"version":        `{"version":2,"tiers":{"a":{}}}`,
		"none":           `{"version":1,"tiers":{}}`,
		"grace":          `{"version":1,"tiers":{"a":{"grace_days":99999}}}`,
	} {
		if _, err := ParseTiers([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	ts, _ := ParseTiers([]byte(tiersJSON))
	if _, err := ts.Tier("gold"); err == nil || !strings.Contains(err.Error(), "enterprise, team") {
		t.Errorf("unknown tier: %v", err)
	}
}

func TestSet(t *testing.T) {
	var l Limits
	if err := l.Set(LimitConcurrentCases, "5"); err != nil || *l.ConcurrentCases != 5 {
		t.Fatalf("set: %v %v", err, l.ConcurrentCases)
	}
	if err := l.Set(LimitConcurrentCases, "unlimited"); err != nil || l.ConcurrentCases != nil {
		t.Fatalf("unlimited: %v", err)
	}
	for _, bad := range [][2]string{{"cases", "1"}, {LimitPrograms, "-2"}, {LimitAccelerator, "maybe"}, {LimitGraceDays, "x"}} {
		if err := l.Set(bad[0], bad[1]); err == nil {
			t.Errorf("Set(%s, %s) accepted", bad[0], bad[1])
		}
	}
}

func TestStanding(t *testing.T) {
	p := payload(t, "team") // expires t0+1 month, 7 days of grace
	exp := p.Expires
	for _, c := range []struct {
		at   time.Time
		want Standing
	}{
		{t0, Valid},
		{exp.Add(-time.Second), Valid},
		{exp, Grace},
		{exp.Add(7*24*time.Hour - time.Second), Grace},
		{exp.Add(7 * 24 * time.Hour), Expired},
	} {
		if got := p.At(c.at); got != c.want {
			t.Errorf("At(%v) = %v, want %v", c.at, got, c.want)
		}
	}
}
