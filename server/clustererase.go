// This file implements the erasure of one case on a raft cluster
// (POST /cluster/v1/cases/{id}/erase, answered by the leader): the
// erasure goes through the log, every replica drops the case, and each
// node that seals its raft data per case (a tenant created with
// --encrypt) destroys its key of the case (runtime/cluster's erase.go).
// knhk case erase --server reaches it through the tenant front's
// POST /erase (server/tenant's erase.go).

package server

import (
	"net/http"
)

// ClusterErasePath is the route of a case's erasure on a cluster node;
// {id} is the case.
const ClusterErasePath = "/cluster/v1/cases/{id}/erase"

func (a *ClusterAPI) erase(w http.ResponseWriter, r *http.Request) {
	caseCall(w, r, "erased", a.n.EraseCase)
}
