// This file implements proofs for auditors: that a case's receipts are
// in a signed checkpoint (inclusion) and that an earlier checkpoint is a
// prefix of it (consistency), checked offline with nothing but the
// proof file and the signer's public key.

package receipt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"

	"github.com/knhk/knhk/runtime/sign"
)

// Proof is what knhk receipts prove writes.
type Proof struct {
	Version    int            `json:"version"`
	Case       string         `json:"case"`
	Checkpoint *Checkpoint    `json:"checkpoint"`
	Receipts   []ProvedRecord `json:"receipts"`
	// Earlier is the first checkpoint that covered the case's first
	// receipt, with the proof that the tree it signed is a prefix of
	// Checkpoint's: the log only grew since.
	Earlier *Consistency `json:"earlier,omitempty"`
}

// ProvedRecord is a receipt with its inclusion proof in the tree of the
// proof's checkpoint.
type ProvedRecord struct {
	Receipt   *Receipt `json:"receipt"`
	Inclusion [][]byte `json:"inclusion"`
}

// Consistency proves that checkpoint From's tree is a prefix of the
// proof's checkpoint.
type Consistency struct {
	From  *Checkpoint `json:"from"`
	Proof [][]byte    `json:"proof"`
}

// Prove builds the proof for case caseID from the receipt log of data,
// against its latest checkpoint. The log must verify up to that
// checkpoint, and the checkpoint must cover every receipt of the case.
func Prove(data, caseID string) (*Proof, error) {
	dir := filepath.Join(data, Dir)
	cps, err := loadCheckpoints(filepath.Join(dir, CheckpointsFile), false)
	if err != nil {
		return nil, err
	}
	if len(cps) == 0 {
		return nil, fmt.Errorf("the receipt log of %s has no signed checkpoint yet", data)
	}
	latest := cps[len(cps)-1]
	c := newChain(true)
	_, err = readReceipts(filepath.Join(dir, LogFile), 0, 0, func(r *Receipt, _ int64) error {
		if c.n >= latest.Size {
			return nil
		}
		return c.add(r)
	})
	if err != nil {
		return nil, fmt.Errorf("the receipt log is damaged: %w", err)
	}
	if c.n < latest.Size {
		return nil, fmt.Errorf("the receipt log has %d receipts but its latest checkpoint signs %d", c.n, latest.Size)
	}
	t := newTree(c.leaves)
	root, err := rootOf(mustRange(c.leaves))
	if err != nil {
		return nil, err
	}
	if root != latest.Root {
		return nil, fmt.Errorf("the receipts do not match the latest checkpoint's root: run knhk receipts verify")
	}
	p := &Proof{Version: 1, Case: caseID, Checkpoint: latest}
	for _, r := range c.receipts {
		if r.Case != caseID {
			continue
		}
		incl, err := t.inclusion(r.Seq, latest.Size)
		if err != nil {
			return nil, err
		}
		p.Receipts = append(p.Receipts, ProvedRecord{Receipt: r, Inclusion: incl})
	}
	if len(p.Receipts) == 0 {
		return nil, fmt.Errorf("no receipt of case %s in the signed part of the log (%d receipts)", caseID, latest.Size)
	}
	first := p.Receipts[0].Receipt.Seq
	for _, cp := range cps {
		if cp.Size > first && cp.Size < latest.Size {
			cons, err := t.consistency(cp.Size, latest.Size)
			if err != nil {
				return nil, err
			}
			p.Earlier = &Consistency{From: cp, Proof: cons}
			break
		}
	}
	return p, nil
}

func mustRange(leaves [][]byte) *compact.Range {
	r := rangeFac.NewEmptyRange(0)
	for _, l := range leaves {
		_ = r.Append(l, nil)
	}
	return r
}

// ProofReport is what CheckProof established.
type ProofReport struct {
	Case     string
	Receipts int
	Size     uint64
	Root     Digest
	Alg      sign.Algorithm
	Key      string
	Earlier  uint64 // the size of the earlier checkpoint proved a prefix, 0 for none
	Complete bool   // the receipts start at the case's start
}

// maxProof bounds a proof file.
const maxProof = 256 << 20

// DecodeProof parses a proof file strictly: unknown fields are errors.
func DecodeProof(b []byte) (*Proof, error) {
	if len(b) > maxProof {
		return nil, fmt.Errorf("proof of %d bytes is larger than %d", len(b), maxProof)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p Proof
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("not a receipt proof: %v", err)
	}
	if dec.More() {
		return nil, errors.New("not a receipt proof: text after it")
	}
	if p.Version != 1 {
		return nil, fmt.Errorf("proof version %d, want 1", p.Version)
	}
	if p.Checkpoint == nil || len(p.Receipts) == 0 {
		return nil, errors.New("the proof has no checkpoint or no receipt")
	}
	for i, r := range p.Receipts {
		if r.Receipt == nil {
			return nil, fmt.Errorf("proved receipt %d is empty", i+1)
		}
	}
	if p.Earlier != nil && p.Earlier.From == nil {
		return nil, errors.New("the earlier checkpoint is missing")
	}
	return &p, nil
}

// CheckProof checks p with the keys of trust under policy: the
// checkpoint's signature, each receipt's hash, its inclusion in the
// checkpoint's tree, the chain of the case's receipts (each one's input
// the previous one's output) and, when present, the earlier checkpoint's
// signature and its consistency with the later one.
func CheckProof(p *Proof, trust *sign.TrustSet, policy sign.Policy) (*ProofReport, error) {
	verifyCP := func(what string, cp *Checkpoint) error {
		k := trust.Key(cp.Key)
		switch {
		case k == nil:
			return fmt.Errorf("%s is signed by %s key %s, which is not trusted", what, cp.Alg, cp.Key)
		case !policy.Accepts(cp.Alg):
			return fmt.Errorf("%s is signed by %s key %s, a %s algorithm that policy %s does not accept", what, cp.Alg, cp.Key, cp.Alg.Class(), policy)
		}
		if err := cp.VerifySignature(k); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	cp := p.Checkpoint
	if err := verifyCP("the checkpoint", cp); err != nil {
		return nil, err
	}
	var prev *Receipt
	for i, pr := range p.Receipts {
		r := pr.Receipt
		switch {
		case r.Case != p.Case:
			return nil, fmt.Errorf("receipt %d is of case %s, not %s", r.Seq, r.Case, p.Case)
		case r.ComputeHash() != r.Hash:
			return nil, fmt.Errorf("receipt %d: its hash does not match its contents", r.Seq)
		case r.Output != OutputOf(r.Input, r.Event):
			return nil, fmt.Errorf("receipt %d: its output digest is not SHA-256(input || event)", r.Seq)
		case prev != nil && r.Seq <= prev.Seq:
			return nil, fmt.Errorf("receipt %d follows receipt %d: out of order", r.Seq, prev.Seq)
		case prev != nil && r.Input != prev.Output:
			return nil, fmt.Errorf("receipt %d does not follow receipt %d of the case: a receipt is missing", r.Seq, prev.Seq)
		case i == 0 && r.Input != (Digest{}) && r.Kind == "start":
			return nil, fmt.Errorf("receipt %d starts the case with a non-zero input digest", r.Seq)
		}
		if err := proof.VerifyInclusion(hasher, r.Seq, cp.Size, leafHash(r.Hash), pr.Inclusion, cp.Root[:]); err != nil {
			return nil, fmt.Errorf("receipt %d is not in the checkpoint's tree: %v", r.Seq, err)
		}
		prev = r
	}
	rep := &ProofReport{Case: p.Case, Receipts: len(p.Receipts), Size: cp.Size, Root: cp.Root, Alg: cp.Alg, Key: cp.Key,
		Complete: p.Receipts[0].Receipt.Input == (Digest{})}
	if e := p.Earlier; e != nil {
		if err := verifyCP("the earlier checkpoint", e.From); err != nil {
			return nil, err
		}
		if err := proof.VerifyConsistency(hasher, e.From.Size, cp.Size, e.Proof, e.From.Root[:], cp.Root[:]); err != nil {
			return nil, fmt.Errorf("the earlier checkpoint (size %d) is not a prefix of the checkpoint: %v", e.From.Size, err)
		}
		rep.Earlier = e.From.Size
	}
	return rep, nil
}
