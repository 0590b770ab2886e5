// This file implements checkpoints: a tree size and root, signed.

package receipt

import (
	"encoding/json"
	"fmt"

	"github.com/knhk/knhk/runtime/sign"
)

// Checkpoint commits to the first Size receipts of the log: Root is the
// RFC 6962 Merkle root of their hashes. Time is when it was made (Unix
// milliseconds); Alg, Key and Sig are the signature over [Checkpoint.Text]
// under sign.DomainCheckpoint.
type Checkpoint struct {
	Size uint64         `json:"size"`
	Root Digest         `json:"root"`
	Time int64          `json:"time"`
	Alg  sign.Algorithm `json:"alg"`
	Key  string         `json:"key"`
	Sig  []byte         `json:"sig"`
}

// Text is what a checkpoint's signature signs.
func (c *Checkpoint) Text() string {
	return fmt.Sprintf("knhk receipt checkpoint v1\nsize %d\nroot %s\ntime %d\n", c.Size, c.Root, c.Time)
}

// signCheckpoint signs c with k, filling in Alg, Key and Sig.
func signCheckpoint(c *Checkpoint, k *sign.PrivateKey) error {
	sig, err := k.Sign(sign.DomainCheckpoint, []byte(c.Text()))
	if err != nil {
		return err
	}
	c.Alg, c.Key, c.Sig = k.Algorithm(), k.ID(), sig
	return nil
}

// VerifySignature checks c's signature with k, which must be the key c
// names.
func (c *Checkpoint) VerifySignature(k *sign.PublicKey) error {
	if k.ID() != c.Key || k.Algorithm() != c.Alg {
		return fmt.Errorf("signed by %s key %s, not %s key %s", c.Alg, c.Key, k.Algorithm(), k.ID())
	}
	return k.Verify(sign.DomainCheckpoint, []byte(c.Text()), c.Sig)
}

func encodeCheckpoint(c *Checkpoint) ([]byte, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// decodeCheckpoint parses one line of the checkpoint log.
func decodeCheckpoint(line []byte) (*Checkpoint, error) {
	if len(line) > 64<<10 {
		return nil, fmt.Errorf("line of %d bytes is too long for a checkpoint", len(line))
	}
	var c Checkpoint
	if err := json.Unmarshal(line, &c); err != nil {
		return nil, fmt.Errorf("does not decode: %v", err)
	}
	if _, err := sign.ParseAlgorithm(string(c.Alg)); err != nil {
		return nil, err
	}
	if c.Key == "" || len(c.Sig) == 0 {
		return nil, fmt.Errorf("has no key or signature")
	}
	return &c, nil
}
