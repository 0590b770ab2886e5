// This file implements the cosigning of a cluster's audit tree head:
// the node that exports the cluster's chain asks every other node to
// sign the head of the same tree from its own replica (runtime/audit's
// Cosign), so that the export carries the signatures of the nodes that
// hold the chain, not only its exporter's: a chain forged with one
// node's stolen key lacks the others' (knhk audit verify --signers).

package tenant

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"connectrpc.com/connect"

	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/server"
)

// ClusterTreeHeadPath is the route by which a node asks another to
// cosign a tree head of the cluster's audit chain: POST a
// ClusterCosignRequest, the nodes' token only; the answer is a
// ClusterCosigned.
const ClusterTreeHeadPath = "/cluster/v1/audit/treehead"

// ClusterCosignRequest names the tree to cosign: the first Size records
// of the chain, whose root is Root.
type ClusterCosignRequest struct {
	Size uint64       `json:"size"`
	Root audit.Digest `json:"root"`
}

// ClusterCosigned is a node's head of the tree asked for and its public
// key (PEM), with which the exporter checks the head before it puts it
// in its export; an auditor trusts keys of its own, not these.
type ClusterCosigned struct {
	Head audit.TreeHead `json:"head"`
	Key  []byte         `json:"key"`
}

// serveCosign answers a node's ClusterTreeHeadPath call.
func (h *Host) serveCosign(w http.ResponseWriter, r *http.Request, c ClusterAudit) {
	var q ClusterCosignRequest
	if !h.nodePost(w, r, "cosigning the cluster's audit tree", "a tree head to cosign", 1<<10, &q, func() error { return nil }) {
		return
	}
	k, err := c.TreeKey()
	if err != nil {
		server.WriteError(w, r, connect.CodeInternal, err.Error())
		return
	}
	recs, applied := c.Chain()
	head, err := audit.Cosign(recs, q.Size, q.Root, c.Node(), applied, time.Now(), k)
	if err != nil {
		server.WriteError(w, r, connect.CodeFailedPrecondition, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(ClusterCosigned{Head: *head, Key: k.Public().MarshalPEM()})
}

// CheckCosigned returns the head of an answer to a ClusterTreeHeadPath
// call and the key it verifies with, or why it is not the head of the
// tree asked for.
func CheckCosigned(b []byte, want audit.TreeHead) (*audit.TreeHead, *sign.PublicKey, error) {
	var ans ClusterCosigned
	if err := json.Unmarshal(b, &ans); err != nil {
		return nil, nil, fmt.Errorf("not a cosigned tree head: %v", err)
	}
	k, err := sign.ParsePublicKey(ans.Key)
	if err != nil {
		return nil, nil, err
	}
	h := &ans.Head
	if h.Size != want.Size || h.Root != want.Root {
		return nil, nil, fmt.Errorf("node %s signed the tree of %d records, root %s, not the one asked for", h.Node, h.Size, h.Root)
	}
	if err := h.VerifyWith(k); err != nil {
		return nil, nil, fmt.Errorf("node %s's head: %v", h.Node, err)
	}
	return h, k, nil
}
