// This file implements the driver's commands of the cluster's own space
// other than events: a change of the tenancy (knhk tenant --server on
// knhk serve --bft --tenants) and a record of the audit chain, proposed
// by the lease holder as the raft mode's leader proposes them.

package bft

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/knhk/knhk/runtime/cluster"
)

// Commit proposes c, a tenancy change or an audit record of the
// cluster's own space, and returns the index its block applied it at.
// A retry with c's request id (made up when empty) answers the first
// outcome; a change computed from an older tenancy fails with an error
// that wraps cluster.ErrConflict, and the caller computes it again.
func (d *Driver) Commit(ctx context.Context, c *cluster.Command) (uint64, error) {
	switch {
	case d.tenant != "":
		return 0, fmt.Errorf("%w: tenant %s's driver commits only its events", cluster.ErrBadCommand, d.tenant)
	case c.Op != cluster.OpTenant && c.Op != cluster.OpAudit:
		return 0, fmt.Errorf("%w: op %s is not committed by Commit", cluster.ErrBadCommand, c.Op)
	}
	if c.ReqID == "" {
		var b [12]byte
		rand.Read(b[:])
		c.ReqID = "bft-" + hex.EncodeToString(b[:])
	}
	c.Program = d.app.prog
	if r, ok := d.fsm().Request(c.ReqID); ok {
		return r.Index, outcome(r.Err)
	}
	// The call's audit record rides in its tenancy change (audit.go).
	if err := cluster.ClaimAudit(ctx, d.fsm(), c); err != nil {
		return 0, err
	}
	err := d.log.submit(ctx, c)
	if r, ok := d.fsm().Request(c.ReqID); ok {
		cluster.AuditApplied(c, r.Err != nil) // the FSM applied it, and chained its record
		return r.Index, outcome(r.Err)
	}
	if err == nil {
		err = errors.New("the block applied the command without recording its request")
	}
	return 0, d.deposed(err)
}

// outcome is the error the FSM recorded for a request, typed again
// where the caller acts on its kind (the FSM keeps only its text).
func outcome(err error) error {
	if err != nil && strings.HasPrefix(err.Error(), cluster.ErrConflict.Error()) {
		return fmt.Errorf("%w%s", cluster.ErrConflict, strings.TrimPrefix(err.Error(), cluster.ErrConflict.Error()))
	}
	return err
}
