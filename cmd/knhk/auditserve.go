// This file implements the audit of knhk serve --tenants: the data
// directory's audit log behind the tenant front, anchored in the receipt
// log when the server keeps one (--sign-key).

package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/receipt"
	"github.com/knhk/knhk/server/auth"
	"github.com/knhk/knhk/server/tenant"
)

// serveAudit is the audit of a serve --tenants; nil without --tenants.
type serveAudit struct {
	t    *tenantServe
	log  *audit.Log
	anch *audit.Anchorer
	// cluster, on a raft cluster node, takes the records of the actions
	// the cluster decides into the cluster's chain (auditcluster.go).
	cluster tenant.ClusterAudit
}

// openServeAudit opens data's audit log for the tenant front t and, when
// rec is not nil, anchors it in rec every second.
func openServeAudit(t *tenantServe, data string, rec *receipt.Recorder) (*serveAudit, error) {
	if t == nil {
		return nil, nil
	}
	l, err := audit.Open(data)
	if err != nil {
		return nil, err
	}
	a := &serveAudit{t: t, log: l}
	if err := a.lifecycle("start", rec != nil); err != nil {
		l.Close()
		return nil, err
	}
	if rec != nil {
		if a.anch, err = audit.StartAnchorer(data, l, rec, 0); err != nil {
			l.Close()
			return nil, err
		}
	}
	return a, nil
}

// front returns h (the tenant front) with every call audited.
func (a *serveAudit) front(h http.Handler) http.Handler {
	if a == nil {
		return h
	}
	if a.cluster != nil {
		return a.t.host.AuditedCluster(a.log, a.cluster)
	}
	return a.t.host.Audited(a.log)
}

// close anchors the head a last time (before the receipt log's last
// checkpoint) and closes the log.
func (a *serveAudit) close(context.Context) error {
	if a == nil {
		return nil
	}
	err := a.lifecycle("stop", a.anch != nil)
	if a.anch != nil {
		err = errors.Join(err, a.anch.Close())
	}
	return errors.Join(err, a.log.Close())
}

// lifecycle records the server's start or stop: the audit's own
// coverage begins and ends there (SOC 2 CC7.2).
func (a *serveAudit) lifecycle(what string, anchored bool) error {
	rec := audit.Record{Tenant: auth.DefaultTenant, Subject: localSubject(), Role: auth.RoleAdmin.String(), Credential: audit.CredLocal,
		Action: "knhk serve " + what, Remote: "local", Result: audit.ResultOK}
	if !anchored {
		rec.Detail = "not anchored: no --sign-key"
	}
	_, err := a.log.Append(rec)
	return err
}

// withAnchors adds the audit anchors of data to an event source for
// receipt.Verify: each anchor's receipt is compared with its line of the
// anchor file as a case's receipts are with its events.
func withAnchors(data string, events func(fn func(string, *engine.Event) error) error) func(fn func(string, *engine.Event) error) error {
	return func(fn func(string, *engine.Event) error) error {
		if err := events(fn); err != nil {
			return err
		}
		return audit.AnchorEvents(data, fn)
	}
}
