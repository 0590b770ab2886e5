// This file implements the answer of a validator in the Byzantine mode
// to the erasure of one case (POST /cluster/v1/cases/{id}/erase, which
// knhk case erase --server reaches through the tenant front): refused
// by name. A sealed tenant's commands, its space in the saves and its
// refusals are sealed under the one key of its leaf of the validators'
// seal root, so there is no key of one case that the validators could
// destroy; docs/cluster.md, "Sealed tenants and erasure on a chain",
// says what offering it would take.

package server

import (
	"fmt"
	"net/http"

	"github.com/knhk/knhk/runtime/cluster"
)

func (a *BFTAPI) erase(w http.ResponseWriter, r *http.Request) {
	fail(w, fmt.Errorf("%w: erasing one case (%s) is not supported with --bft: a sealed tenant's events are sealed under one key for the whole tenant, which every validator keeps for its other cases; erase the tenant, created with --encrypt (knhk tenant erase), whose key every validator destroys", cluster.ErrNotErasable, r.PathValue("id")))
}
