// This file implements audit records: their fields, their canonical
// encoding and their hash.

package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/knhk/knhk/runtime/receipt"
)

// Digest is a SHA-256 digest, written as hex.
type Digest = receipt.Digest

// Credential kinds of [Record.Credential].
const (
	CredToken       = "token"       // a bearer JWT
	CredCertificate = "certificate" // a verified TLS client certificate
	CredStatic      = "static"      // knhk serve --token-file
	CredLocal       = "local"       // the CLI with access to the data directory
	CredNone        = "none"        // no credential, or one that did not verify
)

// Results other than an error code.
const (
	ResultOK = "ok"
	// ResultIntent is a raft cluster's record of a write committed to
	// the chain before the write was proposed (runtime/cluster's
	// auditride.go): the record with the same audit_req target that
	// follows says how it ended; none follows when the node crashed.
	ResultIntent = "intent"
	// ResultRefused is a raft cluster's record that rode in a command
	// the log refused (a replay, a conflict): Detail says why.
	ResultRefused = "refused"
)

// Record is one audited action.
type Record struct {
	Seq        uint64   `json:"seq"`
	Time       string   `json:"time"` // RFC 3339 with nanoseconds, UTC
	Tenant     string   `json:"tenant"`
	Subject    string   `json:"subject"`
	Role       string   `json:"role"`
	Credential string   `json:"credential"`
	Action     string   `json:"action"` // an API method path, or a CLI command ("knhk tenant create")
	Targets    []string `json:"targets,omitempty"`
	Remote     string   `json:"remote"`
	Result     string   `json:"result"` // ResultOK or an error code
	Detail     string   `json:"detail,omitempty"`
	Prev       Digest   `json:"prev"`
	Hash       Digest   `json:"hash"`
}

// body is what a record's body digest covers: every field but the chain.
type body struct {
	Seq        uint64   `json:"seq"`
	Time       string   `json:"time"`
	Tenant     string   `json:"tenant"`
	Subject    string   `json:"subject"`
	Role       string   `json:"role"`
	Credential string   `json:"credential"`
	Action     string   `json:"action"`
	Targets    []string `json:"targets,omitempty"`
	Remote     string   `json:"remote"`
	Result     string   `json:"result"`
	Detail     string   `json:"detail,omitempty"`
}

// BodyDigest returns the SHA-256 of r's fields (all but Prev and Hash)
// in their canonical JSON encoding.
func (r *Record) BodyDigest() Digest {
	b, _ := json.Marshal(body{r.Seq, r.Time, r.Tenant, r.Subject, r.Role, r.Credential, r.Action, r.Targets, r.Remote, r.Result, r.Detail})
	return sha256.Sum256(b)
}

// ChainHash returns the hash of the record whose body digest is body and
// whose predecessor's hash is prev.
func ChainHash(prev, body Digest) Digest {
	b := make([]byte, 0, len(hashPrefix)+64)
	b = append(b, hashPrefix...)
	b = append(b, prev[:]...)
	b = append(b, body[:]...)
	return sha256.Sum256(b)
}

const hashPrefix = "knhk-audit/v1\x00"

// ComputeHash returns r's hash from its fields and Prev.
func (r *Record) ComputeHash() Digest { return ChainHash(r.Prev, r.BodyDigest()) }

// Limits on a record's fields: a record is one line of the log.
const (
	maxField   = 1 << 10
	maxTargets = 16
	maxLine    = 32 << 10
)

// clip bounds r's fields so that no caller can make a line too long; a
// cut field ends in "…".
func (r *Record) clip() {
	c := func(s *string) {
		if len(*s) > maxField {
			*s = string(bytes.ToValidUTF8([]byte((*s)[:maxField]), nil)) + "…"
		}
	}
	for _, s := range []*string{&r.Tenant, &r.Subject, &r.Role, &r.Credential, &r.Action, &r.Remote, &r.Result, &r.Detail} {
		c(s)
	}
	if len(r.Targets) > maxTargets {
		r.Targets = append(r.Targets[:maxTargets:maxTargets], fmt.Sprintf("… %d more", len(r.Targets)-maxTargets))
	}
	for i := range r.Targets {
		c(&r.Targets[i])
	}
	if r.Time == "" {
		r.Time = time.Now().UTC().Format(time.RFC3339Nano)
	}
}

// encodeLine returns r as one line of the log, newline included.
func encodeLine(r *Record) []byte {
	b, _ := json.Marshal(r)
	return append(b, '\n')
}

// decodeLine parses one line of the log (without its newline), strictly.
func decodeLine(line []byte) (*Record, error) {
	if len(line) > maxLine {
		return nil, fmt.Errorf("line of %d bytes is longer than %d", len(line), maxLine)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var r Record
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("does not decode: %v", err)
	}
	if dec.More() {
		return nil, errors.New("does not decode: text after the record")
	}
	if r.Action == "" || r.Result == "" {
		return nil, errors.New("has no action or result")
	}
	return &r, nil
}

// Time returns r's time.
func (r *Record) When() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, r.Time)
	return t
}
