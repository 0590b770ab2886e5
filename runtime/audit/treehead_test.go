package audit

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/compact"

	"github.com/knhk/knhk/runtime/sign"
)

// chainOf returns n records chained as a cluster's chain holds them.
func chainOf(n int) []Record {
	recs := make([]Record, n)
	var prev Digest
	for i := range recs {
		r := rec([]string{"acme", "beta"}[i%2], fmt.Sprintf("/knhk.v1.KnhkService/StartCase#%d", i), ResultOK)
		r.Time = time.Unix(1700000000+int64(i), 0).UTC().Format(time.RFC3339Nano)
		r.Seq, r.Prev = uint64(i), prev
		r.Hash = r.ComputeHash()
		prev = r.Hash
		recs[i] = r
	}
	return recs
}

// rechain recomputes every entry's digests from the first, as one who
// rewrote records and wants the chain to verify would.
func rechain(ev *Evidence) {
	var prev Digest
	for i := range ev.Records {
		e := &ev.Records[i]
		r := e.Record
		r.Seq, r.Prev = uint64(i), prev
		r.Hash = r.ComputeHash()
		e.Seq, e.Prev, e.Body, e.Hash = r.Seq, r.Prev, r.BodyDigest(), r.Hash
		prev = r.Hash
	}
}

func treeKey(t testing.TB) *sign.PrivateKey {
	t.Helper()
	k, err := sign.Generate(sign.MLDSA65Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// treeAnchored returns the anchored report of a chain of n records.
func treeAnchored(t testing.TB, n int, k *sign.PrivateKey) *Evidence {
	t.Helper()
	ev := EvidenceOf(chainOf(n), "a cluster", CollectOptions{})
	if err := AnchorTree(ev, "n1", 42, time.Unix(1700000000, 0), k); err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestTreeAnchorsEveryShape: the tree's root is RFC 6962's (as
// transparency-dev's compact range computes it) and every record's
// proof verifies, for every tree shape up to 17 records, through the
// JSON and HTML exports.
func TestTreeAnchorsEveryShape(t *testing.T) {
	k := treeKey(t)
	trust := sign.NewTrustSet(k.Public())
	for n := 0; n <= 17; n++ {
		ev := treeAnchored(t, n, k)
		rf := &compact.RangeFactory{Hash: hasher.HashChildren}
		cr := rf.NewEmptyRange(0)
		for _, e := range ev.Records {
			if err := cr.Append(hasher.HashLeaf(e.Hash[:]), nil); err != nil {
				t.Fatal(err)
			}
		}
		want := hasher.EmptyRoot()
		if n > 0 {
			want, _ = cr.GetRootHash(nil)
		}
		if !bytes.Equal(ev.Tree.Head.Root[:], want) {
			t.Fatalf("%d records: root %s, want %x", n, ev.Tree.Head.Root, want)
		}
		for _, format := range Formats[:] {
			if format == "csv" {
				continue
			}
			var buf bytes.Buffer
			if err := Write(&buf, ev, format); err != nil {
				t.Fatal(err)
			}
			if format == "html" && !strings.Contains(buf.String(), fmt.Sprintf("every record is proved in the Merkle tree of %d records", n)) {
				t.Fatalf("%d records: the page does not say what verified:\n%s", n, buf.String())
			}
			back, err := DecodeEvidence(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			rep := Check(back, VerifyOptions{Trust: trust, Anchored: true})
			if rep.Problem != nil || rep.TreeSize != uint64(n) || rep.TreeNode != "n1" || rep.Key != k.ID() || ev.Found.Problem != nil {
				t.Fatalf("%d records, %s: %+v", n, format, rep)
			}
		}
	}
}

// TestTreeRefusesTampering: each way of changing an anchored report
// fails offline with its own reason, each by a check of its own: a
// rechained rewrite, a reordering, a truncation, a proof missing, a
// head re-signed by another key or edited, no head at all; and an
// unchecked signature says so.
func TestTreeRefusesTampering(t *testing.T) {
	k := treeKey(t)
	trust := sign.NewTrustSet(k.Public())
	for _, tc := range []struct {
		name   string
		tamper func(ev *Evidence)
		want   string
		seq    uint64
	}{
		{"a record rewritten, the chain recomputed", func(ev *Evidence) {
			ev.Records[3].Record.Subject = "mallory"
			rechain(ev)
		}, "it is not record 3 of the signed tree head's tree", 3},
		{"two records swapped, the chain recomputed", func(ev *Evidence) {
			ev.Records[1], ev.Records[2] = ev.Records[2], ev.Records[1]
			rechain(ev)
		}, "it is not record 1 of the signed tree head's tree", 1},
		{"the last record and its proof cut off", func(ev *Evidence) {
			ev.Records = ev.Records[:5]
			ev.Tree.Proofs = ev.Tree.Proofs[:5]
		}, "the signed tree head covers 6 records, the report lists 5", 5},
		{"a proof missing", func(ev *Evidence) {
			ev.Tree.Proofs = ev.Tree.Proofs[:5]
		}, "5 inclusion proofs for 6 records", 0},
		{"a rewrite with its own tree, signed by another key", func(ev *Evidence) {
			ev.Records[3].Record.Subject = "mallory"
			rechain(ev)
			if err := AnchorTree(ev, "n1", 42, time.Now(), treeKey(t)); err != nil {
				t.Fatal(err)
			}
		}, "which is not trusted", 0},
		{"a rewrite with its own tree, under the old signature", func(ev *Evidence) {
			ev.Records[3].Record.Subject = "mallory"
			rechain(ev)
			head := ev.Tree.Head
			ev.Tree = NewTree(ev)
			ev.Tree.Head.Node, ev.Tree.Head.Applied, ev.Tree.Head.Time = head.Node, head.Applied, head.Time
			ev.Tree.Head.Alg, ev.Tree.Head.Key, ev.Tree.Head.Sig = head.Alg, head.Key, head.Sig
		}, "signature does not verify", 0},
		{"no tree head", func(ev *Evidence) { ev.Tree = nil }, "has no signed tree head", 0},
	} {
		ev := treeAnchored(t, 6, k)
		if rep := Check(ev, VerifyOptions{Trust: trust, Anchored: true}); rep.Problem != nil {
			t.Fatalf("%s: before: %v", tc.name, rep.Problem)
		}
		tc.tamper(ev)
		rep := Check(ev, VerifyOptions{Trust: trust, Anchored: true})
		if rep.Problem == nil || !strings.Contains(rep.Problem.Reason, tc.want) || rep.Problem.Seq != tc.seq {
			t.Fatalf("%s: %+v, want %q at %d", tc.name, rep.Problem, tc.want, tc.seq)
		}
	}
	// Without keys the head's signature is not checked, and the report
	// says so.
	if rep := Check(treeAnchored(t, 6, k), VerifyOptions{}); rep.Problem != nil || !strings.Contains(rep.ProofNote, "signature was not checked") || rep.Key != "" {
		t.Fatalf("no keys: %+v", rep)
	}
}

// TestTreeCosigned: other nodes cosign the exporter's head from their
// own replicas; verify counts the trusted signers, refuses too few when
// asked for more, a cosigned head of another tree and one signed by an
// untrusted key; a node does not cosign a tree it does not hold.
func TestTreeCosigned(t *testing.T) {
	k1, k2, k3 := treeKey(t), treeKey(t), treeKey(t)
	trust := sign.NewTrustSet(k1.Public(), k2.Public(), k3.Public())
	recs := chainOf(6)
	ev := treeAnchored(t, 6, k1)
	h := ev.Tree.Head
	replica := append(chainOf(6), chainOf(8)[6:]...) // n2 applied two more
	c2, err := Cosign(replica, h.Size, h.Root, "n2", 50, time.Now(), k2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Cosign(recs[:5], h.Size, h.Root, "n3", 40, time.Now(), k3); err == nil || !strings.Contains(err.Error(), "has applied 5 records of the chain, not 6") {
		t.Fatalf("a lagging node cosigned: %v", err)
	}
	other := chainOf(6)
	other[5].Subject = "mallory"
	other[5].Hash = other[5].ComputeHash()
	if _, err := Cosign(other, h.Size, h.Root, "n3", 40, time.Now(), k3); err == nil || !strings.Contains(err.Error(), "has root") {
		t.Fatalf("a node cosigned a tree it does not hold: %v", err)
	}
	ev.Tree.Cosigned = []TreeHead{*c2}
	if rep := Check(ev, VerifyOptions{Trust: trust, Signers: 2}); rep.Problem != nil || strings.Join(rep.TreeSigners, ",") != "n1,n2" {
		t.Fatalf("two signers: %+v", rep)
	}
	if rep := Check(ev, VerifyOptions{Trust: trust, Signers: 3}); rep.Problem == nil || !strings.Contains(rep.Problem.Reason, "signed by 2 trusted node(s) (n1, n2), fewer than the 3 asked for") {
		t.Fatalf("three signers asked for: %+v", rep.Problem)
	}
	// The same key twice counts once.
	ev.Tree.Cosigned = []TreeHead{*c2, *c2}
	if rep := Check(ev, VerifyOptions{Trust: trust, Signers: 3}); rep.Problem == nil || len(rep.TreeSigners) != 2 {
		t.Fatalf("one key twice: %+v", rep)
	}
	bad := *c2
	bad.Root = TreeRoot(other)
	ev.Tree.Cosigned = []TreeHead{bad}
	if rep := Check(ev, VerifyOptions{}); rep.Problem == nil || !strings.Contains(rep.Problem.Reason, "node n2 cosigned the tree of 6 records, root") {
		t.Fatalf("a cosigned head of another tree: %+v", rep.Problem)
	}
	stranger, err := Cosign(recs, h.Size, h.Root, "n4", 50, time.Now(), treeKey(t))
	if err != nil {
		t.Fatal(err)
	}
	ev.Tree.Cosigned = []TreeHead{*c2, *stranger}
	if rep := Check(ev, VerifyOptions{Trust: trust}); rep.Problem == nil || !strings.Contains(rep.Problem.Reason, "signed by node n4 does not verify") {
		t.Fatalf("an untrusted cosigner: %+v", rep.Problem)
	}
}
