// This file implements signed envelopes: a JSON document in a PEM block
// with a Version header, followed by one signature block over the
// document's SHA-256. Licences (runtime/license) and usage reports
// (runtime/meter) are envelopes; keeping one reader means both refuse
// the same malformed, tampered or mis-domained files in the same way.

package sign

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
)

// Envelope describes one kind of signed document.
type Envelope struct {
	BlockType string // the PEM block type of the document
	Version   int    // the Version header written and required
	Domain    Domain // the signing domain of its signature
	Max       int    // the largest file accepted, in bytes
	Noun      string // what messages call the document: "licence"
	File      string // what messages call the file: "licence file"
}

// EnvelopeSubject is what the signature of document bytes raw signs:
// their SHA-256 in hex.
func EnvelopeSubject(raw []byte) string {
	h := sha256.Sum256(raw)
	return hex.EncodeToString(h[:])
}

// Seal signs the document bytes raw with k and returns the file.
func (e *Envelope) Seal(k *PrivateKey, raw []byte) ([]byte, error) {
	s, err := NewSignature(k, e.Domain, EnvelopeSubject(raw))
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := pem.Encode(&b, &pem.Block{Type: e.BlockType, Headers: map[string]string{"Version": fmt.Sprint(e.Version)}, Bytes: raw}); err != nil {
		return nil, err
	}
	b.Write(MarshalSignatures(s))
	return b.Bytes(), nil
}

// Open decodes file b: the document into v (unknown fields and trailing
// data refused), then check, which sees v before any signature is read,
// then the one signature, which must be in e's domain and over the
// document's bytes. Who signed is the caller's to verify. It returns the
// document bytes as signed and the signature.
func (e *Envelope) Open(b []byte, v any, check func() error) ([]byte, *Signature, error) {
	if len(b) > e.Max {
		return nil, nil, fmt.Errorf("%s is more than %d bytes", e.File, e.Max)
	}
	blk, rest := pem.Decode(b)
	if blk == nil {
		return nil, nil, fmt.Errorf("not a %s: no %s block", e.File, e.BlockType)
	}
	if blk.Type != e.BlockType {
		return nil, nil, fmt.Errorf("not a %s: a %s block where a %s block should be", e.File, blk.Type, e.BlockType)
	}
	if h := blk.Headers["Version"]; h != fmt.Sprint(e.Version) {
		return nil, nil, fmt.Errorf("%s version %q; this knhk reads version %d", e.Noun, h, e.Version)
	}
	d := json.NewDecoder(bytes.NewReader(blk.Bytes))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return nil, nil, fmt.Errorf("bad %s payload: %w", e.Noun, err)
	}
	if d.More() {
		return nil, nil, errors.New("bad " + e.Noun + " payload: data after the JSON object")
	}
	if err := check(); err != nil {
		return nil, nil, err
	}
	sigs, err := ParseSignatures(rest)
	if err != nil {
		return nil, nil, fmt.Errorf("%s signature: %w", e.Noun, err)
	}
	if len(sigs) != 1 {
		return nil, nil, fmt.Errorf("%s carries %d signatures; want one", e.Noun, len(sigs))
	}
	s := sigs[0]
	if s.Domain != e.Domain {
		return nil, nil, fmt.Errorf("%s signature is for %s, not %s", e.Noun, s.Domain, e.Domain)
	}
	if want := EnvelopeSubject(blk.Bytes); s.Subject != want {
		return nil, nil, fmt.Errorf("%s is tampered: its signature is for payload %s, the payload is %s", e.Noun, s.Subject, want)
	}
	return blk.Bytes, s, nil
}
