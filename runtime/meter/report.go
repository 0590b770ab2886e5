// This file implements usage report files: encoding, signing, parsing
// and verifying.

package meter

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/knhk/knhk/runtime/sign"
)

// BlockType is the PEM block type of a usage report.
const BlockType = "KNHK USAGE REPORT"

// Domain is the signing domain of usage reports.
const Domain sign.Domain = "usage/v1"

// Report is a decoded usage report file.
type Report struct {
	Usage
	Raw []byte          // the JSON as signed
	Sig *sign.Signature // over Subject(Raw)
}

// Subject is what the signature of report bytes raw signs: their
// SHA-256 in hex.
func Subject(raw []byte) string { return sign.EnvelopeSubject(raw) }

// envelope is the usage report file: the JSON in a KNHK USAGE REPORT
// block and its one signature.
var envelope = sign.Envelope{BlockType: BlockType, Version: Version, Domain: Domain, Max: 64 << 10, Noun: "usage report", File: "usage report"}

// Sign encodes u and signs it with k.
func Sign(k *sign.PrivateKey, u Usage) ([]byte, error) {
	if err := u.check(); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(&u)
	if err != nil {
		return nil, err
	}
	return envelope.Seal(k, raw)
}

var monthRE = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)
var digestRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (u *Usage) check() error {
	switch {
	case u.Version != Version:
		return fmt.Errorf("usage report version %d; this knhk reads version %d", u.Version, Version)
	case u.Customer == "":
		return errors.New("usage report names no customer")
	case !monthRE.MatchString(u.Month):
		return fmt.Errorf("usage report month %q; want YYYY-MM", u.Month)
	case !digestRE.MatchString(u.Digest):
		return fmt.Errorf("usage report digest %q; want 64 hex digits", u.Digest)
	case u.Cases < 0 || u.Transitions < 0 || u.Events < 0 || u.TaskTimeNS < 0 || u.StorageBytes < 0 || u.AcceleratorNS < 0 || u.AcceleratorCalls < 0:
		return errors.New("usage report has a negative count")
	case u.Cases > u.Events || u.Transitions > u.Events:
		return fmt.Errorf("usage report counts more cases (%d) or transitions (%d) than events (%d)", u.Cases, u.Transitions, u.Events)
	case u.FirstSeq > u.LastSeq:
		return fmt.Errorf("usage report's first sequence number %d is after its last %d", u.FirstSeq, u.LastSeq)
	case u.AppliedIndex != 0 && u.LastSeq > u.AppliedIndex:
		return fmt.Errorf("usage report's last sequence number %d is after the raft index %d it was counted at", u.LastSeq, u.AppliedIndex)
	}
	return nil
}

// Parse decodes a usage report file and checks that its signature is
// over its contents; [Report.Verify] checks who signed it.
func Parse(b []byte) (*Report, error) {
	var u Usage
	raw, s, err := envelope.Open(b, &u, u.check)
	if err != nil {
		return nil, err
	}
	return &Report{Usage: u, Raw: raw, Sig: s}, nil
}

// Verify checks that r is signed by a key of trust that policy accepts.
func (r *Report) Verify(trust *sign.TrustSet, policy sign.Policy) error {
	if _, err := trust.VerifyAny([]*sign.Signature{r.Sig}, Domain, r.Sig.Subject, policy); err != nil {
		return fmt.Errorf("usage report: %w", err)
	}
	return nil
}

// Reconcile compares r with a recount of the log (and of the
// accelerator ledger, for its accelerator fields): nil when every field
// agrees, else an error naming each that does not.
func (r *Report) Reconcile(recount Usage) error {
	recount.Customer, recount.Tenant = r.Customer, r.Tenant
	if recount == r.Usage {
		return nil
	}
	a, _ := json.Marshal(&r.Usage)
	b, _ := json.Marshal(&recount)
	var ra, rb map[string]any
	json.Unmarshal(a, &ra)
	json.Unmarshal(b, &rb)
	// A single server's accelerator fields are counted from the
	// ledger, not the log (a cluster's log carries them), and are
	// absent when zero.
	source := func(k string) string {
		if strings.HasPrefix(k, "accelerator_") && r.AppliedIndex == 0 { // a cluster's log carries it
			return "ledger"
		}
		return "log"
	}
	value := func(m map[string]any, k string) any {
		if v, ok := m[k]; ok {
			return v
		}
		if strings.HasPrefix(k, "accelerator_") {
			return 0
		}
		return "absent"
	}
	var diffs []string
	for k, v := range ra {
		if fmt.Sprint(v) != fmt.Sprint(value(rb, k)) {
			diffs = append(diffs, fmt.Sprintf("%s: report %v, %s %v", k, v, source(k), value(rb, k)))
		}
	}
	for k, v := range rb {
		if _, ok := ra[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: report %v, %s %v", k, value(ra, k), source(k), v))
		}
	}
	sort.Strings(diffs)
	return fmt.Errorf("usage report does not reconcile with the event log: %s", strings.Join(diffs, "; "))
}
