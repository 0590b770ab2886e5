// This file implements receipts: their fields, their hash and their
// line in the log.

package receipt

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
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
	// The hash is the RFC 6962 leaf hash of the encoding, SHA-256(0x00 ||
	// encoding): it is the receipt's Merkle leaf as it stands, and a
	// receipt can never pass for an inner node of the tree.
	b := make([]byte, 0, 256)
	b = append(b, hashPrefix...)
	return sha256.Sum256(appendFields(b, r))
}

// maxLine bounds one line of the receipt or checkpoint log: a receipt's
// strings are a case id, an event kind and a descriptor hash.
const maxLine = 4 << 10

// encodeLine returns r as one line of the log, newline included: the
// JSON json.Marshal would write, built by appending because this runs
// once per transition and reflection was most of a receipt's cost.
func encodeLine(r *Receipt) ([]byte, error) {
	return appendLine(make([]byte, 0, 640), r), nil
}

// appendLine appends r's line to b.
func appendLine(b []byte, r *Receipt) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, r.Seq, 10)
	b = append(b, `,"case":`...)
	b = appendJSONString(b, r.Case)
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, r.Kind)
	b = append(b, `,"frame":`...)
	b = strconv.AppendInt(b, int64(r.Frame), 10)
	b = append(b, `,"trans":`...)
	b = strconv.AppendInt(b, int64(r.Trans), 10)
	b = append(b, `,"descriptor":`...)
	b = appendJSONString(b, r.Descriptor)
	b = appendDigest(b, `,"in":"`, &r.Input)
	b = appendDigest(b, `,"ev":"`, &r.Event)
	b = appendDigest(b, `,"out":"`, &r.Output)
	b = appendDigest(b, `,"prev":"`, &r.Prev)
	b = appendDigest(b, `,"hash":"`, &r.Hash)
	return append(b, "}\n"...)
}

func appendDigest(b []byte, key string, d *Digest) []byte {
	b = append(b, key...)
	b = hex.AppendEncode(b, d[:])
	return append(b, '"')
}

// appendJSONString appends s as a JSON string. Printable ASCII is quoted
// the same way by strconv and JSON, and needs no quoting at all without a
// quote or backslash; anything else goes through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e:
			q, _ := json.Marshal(s)
			return append(b, q...)
		case c == '"' || c == '\\':
			plain = false
		}
	}
	if plain { // case ids, kinds and hashes: nothing to escape
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	return strconv.AppendQuote(b, s)
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
