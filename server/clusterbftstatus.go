// This file implements the status of a validator in the Byzantine
// mode: its height, the driver's lease, and the validator set with the
// validators removed for misbehavior, as knhk cluster status shows them.

package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/knhk/knhk/runtime/cluster"
)

// The suffrages a validator has in a BFT status.
const (
	SuffrageValidator = "Validator"
	SuffrageRemoved   = "Removed"
)

func (a *BFTAPI) status(w http.ResponseWriter, r *http.Request) {
	h := uint64(a.height())
	l := a.app.Lease()
	st := &cluster.Status{Node: a.name, State: "Validator", Leader: l.Driver, Term: strconv.FormatUint(l.Term, 10), Applied: h, Commit: h, Program: a.hash()}
	switch {
	case a.Driver() != nil:
		st.State = "Validator (drives)"
	case a.sb != nil:
		st.State = "Validator (standby)"
	}
	var warn []string
	for _, v := range a.app.Validators() {
		m := cluster.MemberStatus{Member: cluster.Member{ID: v.Address}, Suffrage: SuffrageValidator, Leader: v.Address == l.Driver}
		if m.Leader {
			m.API = l.API
		}
		if rm := v.Removed; rm != nil {
			m.Suffrage = SuffrageRemoved
			warn = append(warn, fmt.Sprintf("validator %s removed at block %d for %s at height %d", v.Address, rm.Height, rm.Kind, rm.EvidenceHeight))
		}
		st.Members = append(st.Members, m)
	}
	st.Warning = strings.Join(warn, "; ")
	if err := a.fsm().Broken(); err != nil {
		st.Broken = err.Error()
	}
	writeJSON(w, http.StatusOK, st)
}
