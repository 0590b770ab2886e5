// This file implements receipts: their fields, their hash and their
// line in the log.

package receipt

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// Digest is a SHA-256 digest.
type Digest [32]byte

func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// MarshalText writes d as hex.
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads d from 64 hex digits.
func (d *Digest) UnmarshalText(b []byte) error {
	if len(b) != 64 {
		return fmt.Errorf("digest %q: want 64 hex digits", truncate(string(b)))
	}
	_, err := hex.Decode(d[:], b)
	if err != nil {
		return fmt.Errorf("digest %q: %v", truncate(string(b)), err)
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}

// Receipt is the record of one committed event of a case.
type Receipt struct {
	Seq        uint64 `json:"seq"`
	Case       string `json:"case"`
	Kind       string `json:"kind"` // the event kind: start, fire, done, …
	Frame      int32  `json:"frame"`
	Trans      int32  `json:"trans"`
	Descriptor string `json:"descriptor"`
	Input      Digest `json:"in"`
	Event      Digest `json:"ev"`
	Output     Digest `json:"out"`
	Prev       Digest `json:"prev"`
	Hash       Digest `json:"hash"`
}

// OutputOf returns the state commitment after an event: SHA-256 of the
// commitment before it and the event's digest.
func OutputOf(in, ev Digest) Digest {
	var b [64]byte
	copy(b[:32], in[:])
	copy(b[32:], ev[:])
	return sha256.Sum256(b[:])
}

// ComputeHash returns the hash of r's fields (all but Hash) in a fixed
// binary encoding, so that the hash does not depend on how the JSON line
// happens to be spelled.
func (r *Receipt) ComputeHash() Digest {
	b := make([]byte, 0, 256)
	b = append(b, "knhk-receipt/v1\x00"...)
	b = binary.AppendUvarint(b, r.Seq)
	for _, s := range []string{r.Case, r.Kind, r.Descriptor} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendVarint(b, int64(r.Frame))
	b = binary.AppendVarint(b, int64(r.Trans))
	for _, d := range []Digest{r.Input, r.Event, r.Output, r.Prev} {
		b = append(b, d[:]...)
	}
	return sha256.Sum256(b)
}

// maxLine bounds one line of the receipt or checkpoint log: a receipt's
// strings are a case id, an event kind and a descriptor hash.
const maxLine = 4 << 10

// encodeLine returns r as one line of the log, newline included.
func encodeLine(r *Receipt) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// decodeLine parses one line of the log (without its newline). It checks
// the form only; [Verify] checks the chain.
func decodeLine(line []byte) (*Receipt, error) {
	if len(line) > maxLine {
		return nil, fmt.Errorf("line of %d bytes is longer than %d", len(line), maxLine)
	}
	var r Receipt
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, fmt.Errorf("does not decode: %v", err)
	}
	if r.Case == "" || r.Kind == "" {
		return nil, errors.New("has no case or kind")
	}
	return &r, nil
}
