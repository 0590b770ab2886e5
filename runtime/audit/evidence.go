// This file implements the evidence report: the audit records of a data
// directory (one tenant's, or all), mapped to SOC 2 criteria, with the
// anchors and the receipt proof an auditor checks offline.

package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/knhk/knhk/runtime/receipt"
	"github.com/knhk/knhk/runtime/sign"
)

// EvidenceFormat names the evidence report's format and version.
const EvidenceFormat = "knhk-audit-evidence/v1"

// Entry is one record of an evidence report. Record is nil when the
// record is redacted (another tenant's): Body, Prev and Hash still chain
// it to its neighbours.
type Entry struct {
	Seq      uint64   `json:"seq"`
	Body     Digest   `json:"body"`
	Prev     Digest   `json:"prev"`
	Hash     Digest   `json:"hash"`
	Record   *Record  `json:"record,omitempty"`
	Criteria []string `json:"criteria,omitempty"`
}

// Evidence is what knhk audit export writes.
type Evidence struct {
	Format    string      `json:"format"`
	Generated string      `json:"generated"`
	Scope     string      `json:"scope"` // "all tenants" or "tenant ID"
	Criteria  []Criterion `json:"criteria"`
	Records   []Entry     `json:"records"`
	Anchors   []Anchor    `json:"anchors"`
	// Proof holds the anchors' receipts with their inclusion proofs in
	// the receipt log's latest signed checkpoint (knhk receipts
	// check-proof reads it as it is); nil when no checkpoint covers an
	// anchor yet.
	Proof *receipt.Proof `json:"proof,omitempty"`
	// Tree anchors a raft cluster's chain, which has no receipt log: its
	// Merkle tree's head signed by the exporting node, and each record's
	// inclusion proof (treehead.go).
	Tree *Tree `json:"tree,omitempty"`
	// Found is what the exporter's own check found; an auditor repeats
	// it with knhk audit verify --evidence.
	Found *Report `json:"found"`
}

// CollectOptions select the records of an evidence report.
type CollectOptions struct {
	// Tenant, if set, keeps only that tenant's records in clear; the
	// others are redacted to their digests.
	Tenant string
	Now    func() time.Time
}

// Collect builds the evidence report of data's audit log. A damaged log
// is an error naming the first bad record.
func Collect(data string, o CollectOptions) (*Evidence, error) {
	recs, err := ReadAll(data)
	if err != nil {
		return nil, err
	}
	anchors, err := ReadAnchors(data)
	if err != nil {
		return nil, err
	}
	scope := "all tenants"
	if o.Tenant != "" {
		scope = "tenant " + o.Tenant
	}
	ev := evidenceOf(recs, scope, anchors, o)
	if len(anchors) > 0 {
		if _, err := os.Stat(filepath.Join(data, receipt.Dir, receipt.LogFile)); err == nil {
			p, err := receipt.Prove(data, AnchorCase)
			if err == nil {
				ev.Proof = p
			}
		}
	}
	// The exporter's own check, with the keys stored beside the receipt
	// log (an auditor repeats it with the signer's key it trusts).
	trust, err := sign.LoadTrustDir(filepath.Join(data, receipt.Dir, receipt.KeysDir))
	if err != nil {
		trust = nil
	}
	ev.Found = Check(ev, VerifyOptions{Trust: trust})
	return ev, nil
}

// evidenceOf builds the report of recs, a whole chain from its first
// record, without its proof and findings: each record's entry, whose
// record and criteria are kept only when o.Tenant is empty or its tenant.
func evidenceOf(recs []*Record, scope string, anchors []Anchor, o CollectOptions) *Evidence {
	if o.Now == nil {
		o.Now = time.Now
	}
	if anchors == nil {
		anchors = []Anchor{}
	}
	ev := &Evidence{Format: EvidenceFormat, Generated: o.Now().UTC().Format(time.RFC3339), Scope: scope, Anchors: anchors}
	ev.Records = make([]Entry, len(recs))
	for i, r := range recs {
		e := Entry{Seq: r.Seq, Body: r.BodyDigest(), Prev: r.Prev, Hash: r.Hash}
		if o.Tenant == "" || r.Tenant == o.Tenant {
			e.Record, e.Criteria = r, Criteria(r)
		}
		ev.Records[i] = e
	}
	ev.Criteria = mapCriteria(ev.Records)
	return ev
}

// maxEvidence bounds an evidence file read back.
const maxEvidence = 1 << 30

// DecodeEvidence reads an evidence report: the JSON export, or the HTML
// one (whose report is embedded in it).
func DecodeEvidence(b []byte) (*Evidence, error) {
	if len(b) > maxEvidence {
		return nil, fmt.Errorf("evidence of %d bytes is larger than %d", len(b), maxEvidence)
	}
	if i := bytes.Index(b, []byte(htmlDataOpen)); i >= 0 {
		rest := b[i+len(htmlDataOpen):]
		j := bytes.Index(rest, []byte("</script>"))
		if j < 0 {
			return nil, errors.New("not an evidence report: its embedded data is not closed")
		}
		b = rest[:j]
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var ev Evidence
	if err := dec.Decode(&ev); err != nil {
		return nil, fmt.Errorf("not an evidence report: %v", err)
	}
	if dec.More() {
		return nil, errors.New("not an evidence report: text after it")
	}
	if ev.Format != EvidenceFormat {
		return nil, fmt.Errorf("evidence format %q, want %q", ev.Format, EvidenceFormat)
	}
	return &ev, nil
}
