// This file implements the offline checks of an audit log and of an
// evidence report: the chain, the anchors and the anchors' receipt proof.

package audit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/knhk/knhk/runtime/receipt"
	"github.com/knhk/knhk/runtime/sign"
)

// Report is what a check found.
type Report struct {
	Records  uint64 `json:"records"`  // records whose chain verified
	Redacted int    `json:"redacted"` // of which redacted (another tenant's)
	Head     Digest `json:"head"`     // the hash of the last record verified
	Anchors  int    `json:"anchors"`  // anchors whose head matched the chain
	// Proved is how many anchors have a receipt in the receipt log's
	// latest signed checkpoint whose proof verified; Anchored the
	// records they cover.
	Proved     int    `json:"proved"`
	Anchored   uint64 `json:"anchored"`
	Checkpoint uint64 `json:"checkpoint,omitempty"` // the size of that checkpoint
	Key        string `json:"key,omitempty"`        // the key that signed it
	// TreeSize, TreeNode and TreeRoot are the signed tree head that
	// every record's inclusion proof verified in (treehead.go): a raft
	// cluster's chain; Key is then the key that signed it.
	TreeSize uint64 `json:"tree_size,omitempty"`
	TreeNode string `json:"tree_node,omitempty"`
	TreeRoot Digest `json:"tree_root,omitzero"`
	// TreeSigners are the nodes whose signatures of the tree head
	// verified with a trusted key, one per key.
	TreeSigners []string `json:"tree_signers,omitempty"`
	// ProofNote says why no anchor was proved, when none was.
	ProofNote string `json:"proof_note,omitempty"`
	// Problem is the first thing wrong, nil when everything verified.
	Problem *Problem `json:"problem,omitempty"`
}

// VerifyOptions say whose signatures a check accepts.
type VerifyOptions struct {
	// Trust holds the keys the receipt checkpoints must be signed with.
	// Nil: for Verify, the keys stored beside the receipt log; for Check,
	// the proof is not checked.
	Trust  *sign.TrustSet
	Policy sign.Policy
	// Anchored refuses a report that has neither anchors nor a signed
	// tree head: an auditor who gave keys expects one of them signed.
	Anchored bool
	// Signers is how many trusted keys must have signed a cluster's tree
	// head (its exporter's and the nodes' that cosigned it).
	Signers int
}

// Verify checks the audit log of data: the chain of every record, every
// anchor's head against the chain, and the anchors' receipts in the
// receipt log's latest signed checkpoint (with their inclusion proofs).
// The error is for what prevents the check (no log, unreadable files).
func Verify(data string, o VerifyOptions) (*Report, error) {
	recs, err := ReadAll(data)
	var p *Problem
	if err != nil && !errors.As(err, &p) {
		return nil, err
	}
	if p != nil {
		rep := &Report{Records: uint64(len(recs)), Problem: p}
		if n := len(recs); n > 0 {
			rep.Head = recs[n-1].Hash
		}
		return rep, nil
	}
	if o.Trust == nil {
		if t, err := sign.LoadTrustDir(filepath.Join(data, receipt.Dir, receipt.KeysDir)); err == nil {
			o.Trust = t
		}
	}
	ev, err := Collect(data, CollectOptions{})
	if err != nil {
		return nil, err
	}
	rep := Check(ev, o)
	if ev.Proof == nil && len(ev.Anchors) > 0 {
		if _, serr := os.Stat(filepath.Join(data, receipt.Dir, receipt.LogFile)); serr == nil {
			if _, perr := receipt.Prove(data, AnchorCase); perr != nil {
				rep.ProofNote = fmt.Sprintf("the anchors' receipts are not proved: %v", perr)
			}
		}
	}
	return rep, nil
}

// Check checks an evidence report offline: the chain of its records (a
// redacted record by its digests), each record's body against its
// digest, each anchor against the chain and, with o.Trust, the anchors'
// receipt proof.
func Check(ev *Evidence, o VerifyOptions) *Report {
	rep := &Report{}
	var c chain
	for i := range ev.Records {
		e := &ev.Records[i]
		bad := func(format string, args ...any) *Report {
			rep.Problem = &Problem{Seq: c.next, Reason: fmt.Sprintf(format, args...)}
			return rep
		}
		switch {
		case e.Seq != c.next:
			return bad("sequence number %d where %d was expected: a record was removed, inserted or moved", e.Seq, c.next)
		case e.Prev != c.prev:
			return bad("its previous hash is not the hash of the record before it: a record before it was removed, inserted or rewritten")
		case ChainHash(e.Prev, e.Body) != e.Hash:
			return bad("its hash does not match its body digest: it was changed")
		}
		if r := e.Record; r != nil {
			switch {
			case r.Seq != e.Seq || r.Prev != e.Prev || r.Hash != e.Hash:
				return bad("the record's own sequence number or hashes differ from its entry's")
			case r.BodyDigest() != e.Body:
				return bad("its fields do not match its body digest: it was changed")
			}
		} else {
			rep.Redacted++
		}
		c.next, c.prev = e.Seq+1, e.Hash
	}
	rep.Records, rep.Head = c.next, c.prev
	// The anchors: growing, each committing to a head of this chain.
	var good uint64
	for k, a := range ev.Anchors {
		if k > 0 && a.Size < ev.Anchors[k-1].Size {
			rep.Problem = &Problem{Seq: good, Reason: fmt.Sprintf("anchor %d covers %d records, fewer than anchor %d's %d", k+1, a.Size, k, ev.Anchors[k-1].Size)}
			return rep
		}
		if a.Size > c.next {
			rep.Problem = &Problem{Seq: c.next, Reason: fmt.Sprintf("anchor %d covers %d records but the log ends after %d: records from %d on were deleted", k+1, a.Size, c.next, c.next)}
			return rep
		}
		var h Digest
		if a.Size > 0 {
			h = ev.Records[a.Size-1].Hash
		}
		if h != a.Head {
			rep.Problem = &Problem{Seq: good, Reason: fmt.Sprintf("anchor %d commits to head %s of records 0..%d, but the log's record %d hashes to %s: a record from %d on was rewritten", k+1, a.Head, a.Size-1, a.Size-1, h, good)}
			return rep
		}
		good = a.Size
		rep.Anchors = k + 1
	}
	if ev.Tree != nil {
		checkTree(ev, o, rep) // treehead.go
		return rep
	}
	if o.Anchored && len(ev.Anchors) == 0 {
		rep.Problem = &Problem{Seq: 0, Reason: errNoTree.Error()}
		return rep
	}
	checkProof(ev, o, rep)
	return rep
}

// checkProof checks the anchors' receipts, filling in rep.
func checkProof(ev *Evidence, o VerifyOptions, rep *Report) {
	p := ev.Proof
	switch {
	case len(ev.Anchors) == 0:
		rep.ProofNote = "no anchor: the log is chained but not anchored in a receipt log (run knhk serve --tenants with --sign-key)"
		return
	case p == nil:
		if rep.ProofNote == "" {
			rep.ProofNote = "no signed receipt checkpoint covers an anchor yet"
		}
		return
	case o.Trust == nil:
		rep.ProofNote = "the anchors' receipt proof was not checked: give the receipt signer's public key (--trust)"
		return
	}
	bad := func(format string, args ...any) {
		rep.Problem = &Problem{Seq: 0, Reason: fmt.Sprintf(format, args...)}
	}
	if p.Case != AnchorCase {
		bad("the proof is for case %s, not the audit anchors (%s)", p.Case, AnchorCase)
		return
	}
	pr, err := receipt.CheckProof(p, o.Trust, o.Policy)
	if err != nil {
		bad("the anchors' receipt proof does not verify: %v", err)
		return
	}
	if !pr.Complete {
		bad("the anchors' receipt proof does not start at the first anchor")
		return
	}
	if len(p.Receipts) > len(ev.Anchors) {
		bad("the receipt log holds %d anchors but the report lists %d", len(p.Receipts), len(ev.Anchors))
		return
	}
	for i, r := range p.Receipts {
		a := ev.Anchors[i]
		d, err := receipt.EventDigest(a.Event())
		if err != nil {
			bad("anchor %d: %v", i+1, err)
			return
		}
		if d != r.Receipt.Event {
			var start uint64
			if i > 0 {
				start = ev.Anchors[i-1].Size
			}
			rep.Problem = &Problem{Seq: start, Reason: fmt.Sprintf("anchor %d (records 0..%d) is not the anchor its receipt %d signed: the anchor file or the records from %d on were rewritten", i+1, a.Size-1, r.Receipt.Seq, start)}
			return
		}
		rep.Proved, rep.Anchored = i+1, a.Size
	}
	rep.Checkpoint, rep.Key = pr.Size, pr.Key
}
