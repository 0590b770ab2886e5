// This file implements the audit of knhk serve --tenants: every API
// call, console data request and metrics scrape is appended to the data
// directory's audit log (runtime/audit) with who made it (tenant,
// subject, role, kind of credential), what it was (the method and the
// ids it named), when, from where and how it ended; and the audit
// evidence export, for admins only.

package tenant

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	_ "github.com/knhk/knhk/api/knhk/v1" // the service's descriptors, for the calls' target ids
	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/auth"
)

// AuditExportPath is the route of the audit evidence export:
// GET /audit/export?format=json|csv|html. An admin of a tenant gets that
// tenant's records (the others redacted to their digests); an admin of
// the default tenant gets every record.
const AuditExportPath = "/audit/export"

// Audited returns h with every call audited in log, and the export
// route added.
func (h *Host) Audited(log *audit.Log) http.Handler {
	return &auditFront{h: h, log: log}
}

type auditFront struct {
	h   *Host
	log *audit.Log
	// cluster, on a raft cluster node, is the cluster's audit chain
	// (auditcluster.go); next, when set, is the route audited instead of
	// the host.
	cluster ClusterAudit
	next    http.Handler
}

// callerSlot is filled by the Host with the principal it verified
// (noteCaller), so that the audit sees the caller without verifying
// its credential a second time (a one-time token is accepted once).
type callerSlot struct {
	p  auth.Principal
	ok bool
	// An API call's target ids are read from its body only once the
	// Host admits it (admitCall, auditrefused.go): a call refused for
	// its credential, rate or in-flight bound costs no body read.
	lazy     bool
	admitted bool
	targets  []string
}

type callerKey struct{}

// fill puts what the Host found of the caller into rec: the targets it
// read from an admitted call's body, who the caller is and with what.
func (s *callerSlot) fill(rec *audit.Record) {
	if s.lazy {
		rec.Targets = append([]string(nil), s.targets...)
	}
	if s.ok {
		rec.Tenant, rec.Subject, rec.Role = s.p.Tenant, s.p.Subject, s.p.Role.String()
		if rec.Credential == audit.CredToken && s.p.Subject == "static" && s.p.Tenant == auth.DefaultTenant {
			rec.Credential = audit.CredStatic
		}
		if rec.Credential == CredSession && s.p.ID != "" {
			// The token behind the session, for its revocation.
			rec.Targets = append(rec.Targets, "jti="+s.p.ID)
		}
	}
}

// noteCaller records p as the caller of r's call for the audit, when
// the call is audited.
func noteCaller(r *http.Request, p auth.Principal) {
	if s, ok := r.Context().Value(callerKey{}).(*callerSlot); ok {
		s.p, s.ok = p, true
	}
}

// audited says whether a request is an action to audit: API calls,
// console data, metrics, the export and, on a cluster node, the
// cluster's JSON routes; not static assets or probes.
func audited(path string) bool {
	return strings.HasPrefix(path, auth.ServicePath) || strings.HasPrefix(path, "/console/api/") || path == "/metrics" || path == AuditExportPath || path == ErasePath ||
		strings.HasPrefix(path, "/cluster/v1/")
}

func (a *auditFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.cluster != nil && r.URL.Path == ClusterAuditPath && a.h.fromNode(r) {
		a.h.serveClusterAppend(w, r, a.cluster) // the record is the audit
		return
	}
	if a.cluster != nil && r.URL.Path == ClusterTreeHeadPath && a.h.fromNode(r) {
		a.h.serveCosign(w, r, a.cluster) // auditcosign.go: a node's call, writes nothing
		return
	}
	if a.next == nil && !audited(r.URL.Path) {
		a.h.ServeHTTP(w, r)
		return
	}
	slot := &callerSlot{}
	r = r.WithContext(context.WithValue(r.Context(), callerKey{}, slot))
	rec := audit.Record{Action: r.URL.Path, Remote: r.RemoteAddr, Credential: credentialOf(r)}
	if strings.HasPrefix(r.URL.Path, auth.ServicePath) {
		slot.lazy = a.next == nil // read by admitCall
	} else {
		rec.Action = r.Method + " " + r.URL.Path
		if rest, ok := strings.CutPrefix(r.URL.Path, "/console/api/"); ok && rest != "" {
			rec.Targets = []string{rest}
		}
	}
	if r.URL.Path == LoginPath {
		rec.Credential = audit.CredToken // posted in the body
	}
	sw := &statusWriter{ResponseWriter: w}
	var ride AuditRide
	var req string
	if a.cluster != nil && clusterDecided(r) {
		r, ride, req = a.ride(r, &rec, slot) // auditcluster.go
	}
	if a.next != nil {
		// The cluster's tenant administration, the nodes' token only:
		// next refuses a call without it before reading its body, and
		// so does its audit.
		if a.h.fromNode(r) {
			slot.p, slot.ok = auth.Principal{Tenant: auth.DefaultTenant, Subject: "static", Role: auth.RoleAdmin}, true
			op, targets := adminTargets(r)
			rec.Targets = targets
			if op != "" {
				rec.Action = "knhk tenant " + op
			}
		}
		a.next.ServeHTTP(sw, r)
	} else if r.URL.Path == ClusterAuditPath && a.cluster != nil {
		a.h.serveClusterAppend(sw, r, a.cluster) // refused: no nodes' token, audited as such
	} else if r.URL.Path == ClusterTreeHeadPath && a.cluster != nil {
		a.h.serveCosign(sw, r, a.cluster) // likewise
	} else if r.URL.Path == AuditExportPath && a.cluster != nil && r.URL.Query().Get("scope") != NodeLocalScope {
		a.h.serveExport(sw, r, a.cluster)
	} else if r.URL.Path == AuditExportPath {
		// The refusals answered before it, whose records wait for a
		// group commit (auditrefused.go), are in the export.
		if err := a.log.Flush(); err != nil {
			a.h.opts.Logf("audit: %v", err)
		}
		a.h.serveExport(sw, r, nil)
	} else if r.URL.Path == ErasePath {
		rec.Targets = eraseTargets(r) // erase.go
		a.h.serveErase(sw, r)
	} else {
		a.h.ServeHTTP(sw, r)
	}
	slot.fill(&rec)
	rec.Result, rec.Detail = sw.result(r)
	if rec.Result == audit.ResultOK && r.URL.Path == auth.ServicePath+"StartCase" {
		if id := responseField(r, sw.head.Bytes(), "case_id"); id != "" {
			rec.Targets = append(rec.Targets, "case_id="+id)
		}
	}
	// The record is durable before the handler returns: a unary answer
	// small enough for net/http's buffer leaves only then.
	if a.cluster != nil {
		// A call refused before admission (no credential, over its
		// rate) is the node's alone: no caller may make the cluster
		// write its log by being refused.
		a.recordCluster(r, rec, slot.ok && (!slot.lazy || slot.admitted), ride, req)
		return
	}
	// A forwarded call says where it came from only when the forwarding
	// node vouched for it (auditcluster.go).
	rec.Remote, rec.Detail = a.h.forwardedFrom(r, rec.Remote, rec.Detail)
	if (slot.lazy && !slot.admitted) || refusedAccess(rec.Result) {
		a.h.appendRefused(a.log, rec) // auditrefused.go
		return
	}
	a.h.appendLogged(a.log, rec)
}

// appendLogged appends rec to log and logs a failure: the call rec
// records is answered regardless.
func (h *Host) appendLogged(log *audit.Log, rec audit.Record) {
	if _, err := log.Append(rec); err != nil {
		h.opts.Logf("audit: %v", err)
	}
}

// serveExport answers the audit export: an admin's only, of its own
// tenant's records unless it is the default tenant's; of the data
// directory's log, or on a raft cluster node (c set) of the cluster's
// chain as this node applied it (auditcluster.go). The export is no
// route of a tenant's mux, so it authenticates its caller itself.
func (h *Host) serveExport(w http.ResponseWriter, r *http.Request, c ClusterAudit) {
	p, ok := h.admin(w, r, http.MethodGet, "the audit export is a GET", "export the audit log")
	if !ok {
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "json"
	}
	o := audit.CollectOptions{Now: h.opts.Now}
	if p.Tenant != auth.DefaultTenant {
		o.Tenant = p.Tenant
	}
	var ev *audit.Evidence
	var applied string
	if c != nil {
		recs, at := c.Chain()
		ev, applied = audit.EvidenceOf(recs, "all tenants, "+ClusterChainScope+" (reads are in each node's own log)", o), strconv.FormatUint(at, 10)
		// Anchored in the Merkle tree of the chain, its head signed by
		// this node (treehead.go in runtime/audit).
		k, err := c.TreeKey()
		if err == nil {
			now := time.Now
			if h.opts.Now != nil {
				now = h.opts.Now
			}
			err = audit.AnchorTree(ev, c.Node(), at, now(), k)
		}
		if err != nil {
			server.WriteError(w, r, connect.CodeInternal, fmt.Sprintf("anchoring the cluster's audit chain: %v", err))
			return
		}
		// The other nodes cosign it from their replicas (auditcosign.go).
		heads, keys, err := c.Cosign(r.Context(), ev.Tree.Head)
		if err != nil {
			h.opts.Logf("audit: %v", err)
		}
		ev.Tree.Cosigned = heads
		ev.Found = audit.Check(ev, audit.VerifyOptions{Trust: sign.NewTrustSet(append(keys, k.Public())...)})
	} else {
		// Collect reads the file: an admitted call's record is in it
		// once its Append returned, a refusal's may still be on its way
		// to the next group commit (auditrefused.go).
		var err error
		if ev, err = audit.Collect(h.opts.Data, o); err != nil {
			server.WriteError(w, r, connect.CodeInternal, err.Error())
			return
		}
	}
	var buf bytes.Buffer
	if err := audit.Write(&buf, ev, format); err != nil {
		server.WriteError(w, r, connect.CodeInvalidArgument, err.Error())
		return
	}
	w.Header().Set("Content-Type", map[string]string{"json": "application/json", "csv": "text/csv", "html": "text/html; charset=utf-8"}[format])
	if c != nil {
		w.Header().Set(ClusterAuditAppliedHeader, applied)
	}
	w.Write(buf.Bytes())
}

// admin authenticates the caller of a route outside a tenant's mux that
// only an admin may call with method: it answers the refusal itself
// (unauthenticated, the wrong method, a lower role, naming what it may
// not do) and reports whether the route may go on.
func (h *Host) admin(w http.ResponseWriter, r *http.Request, method, wrongMethod, what string) (auth.Principal, bool) {
	p, code, err := h.caller(r)
	if err != nil {
		server.WriteError(w, r, code, err.Error())
		return p, false
	}
	noteCaller(r, p)
	if r.Method != method {
		server.WriteError(w, r, connect.CodeInvalidArgument, wrongMethod)
		return p, false
	}
	if p.Role < auth.RoleAdmin {
		server.WriteError(w, r, connect.CodePermissionDenied, fmt.Sprintf("role %s may not %s (needs admin)", p.Role, what))
		return p, false
	}
	return p, true
}

// caller authenticates r's caller as ServeHTTP does (credential.go):
// its bearer token, console session or client certificate, of a tenant
// that exists and is not suspended.
func (h *Host) caller(r *http.Request) (auth.Principal, connect.Code, error) {
	p, has, err := h.authenticate(r)
	if !has {
		return p, connect.CodeUnauthenticated, errors.New("missing bearer token")
	}
	if err != nil {
		return p, connect.CodeUnauthenticated, err
	}
	if p.Tenant != auth.DefaultTenant {
		_, code, err := h.tenant(p.Tenant)
		if errors.Is(err, errUnknown) {
			if rerr := h.reload(); rerr == nil {
				_, code, err = h.tenant(p.Tenant)
			}
		}
		if err != nil {
			return p, code, err
		}
	}
	return p, 0, nil
}

// statusWriter keeps a response's status and its first bytes, for the
// result of the call; it passes Flush on for streams.
type statusWriter struct {
	http.ResponseWriter
	status int
	head   bytes.Buffer
}

const keepHead = 4 << 10

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	if n := keepHead - s.head.Len(); n > 0 {
		s.head.Write(b[:min(n, len(b))])
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// result returns the call's result: ok, or its error code and message.
func (s *statusWriter) result(r *http.Request) (string, string) {
	if g := s.Header().Get("Grpc-Status"); g != "" {
		if n, err := strconv.Atoi(g); err == nil && n != 0 {
			return connect.Code(n).String(), s.Header().Get("Grpc-Message")
		}
		return audit.ResultOK, ""
	}
	if s.status == 0 || s.status < 300 {
		return audit.ResultOK, ""
	}
	var e struct{ Code, Message string }
	if json.Unmarshal(s.head.Bytes(), &e) == nil && e.Code != "" {
		return e.Code, e.Message
	}
	return "http_" + strconv.Itoa(s.status), strings.TrimSpace(s.head.String())
}

// targetFields are the request fields that name what a call acts on;
// payloads (inputs, results, sources) are never recorded.
var targetFields = map[protoreflect.Name]bool{
	"case_id": true, "workflow": true, "program": true, "name": true, "business_key": true,
	"task_id": true, "queue": true, "hash": true, "request_id": true, "status": true,
}

// method returns the descriptor of the API method r calls.
func method(r *http.Request) protoreflect.MethodDescriptor {
	name, ok := strings.CutPrefix(r.URL.Path, auth.ServicePath)
	if !ok {
		return nil
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(strings.Trim(auth.ServicePath, "/")))
	if err != nil {
		return nil
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil
	}
	return sd.Methods().ByName(protoreflect.Name(name))
}

// requestTargets returns the target ids of an API call's request
// message, reading its body (at most max bytes) and putting it back.
func requestTargets(r *http.Request, max int64) []string {
	md := method(r)
	if md == nil || r.Body == nil || r.Method != http.MethodPost {
		return nil
	}
	b, err := peekBody(r, max)
	if err != nil && !errors.Is(err, errBodyLimit) {
		return nil
	}
	m, ok := decodeMessage(r, md.Input(), b)
	if !ok {
		return nil
	}
	var out []string
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if targetFields[fd.Name()] && fd.Kind() == protoreflect.StringKind && !fd.IsList() && v.String() != "" {
			out = append(out, string(fd.Name())+"="+v.String())
		}
		return true
	})
	return out
}

// responseField returns a string field of a call's answer from its first
// bytes, "" when it cannot tell.
func responseField(r *http.Request, b []byte, field protoreflect.Name) string {
	md := method(r)
	if md == nil {
		return ""
	}
	m, ok := decodeMessage(r, md.Output(), b)
	if !ok {
		return ""
	}
	fd := md.Output().Fields().ByName(field)
	if fd == nil || fd.Kind() != protoreflect.StringKind {
		return ""
	}
	return m.Get(fd).String()
}

// decodeMessage decodes b, a message of type md in r's codec (Connect
// JSON or protobuf, or a gRPC frame).
func decodeMessage(r *http.Request, md protoreflect.MessageDescriptor, b []byte) (*dynamicpb.Message, bool) {
	m := dynamicpb.NewMessage(md)
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/grpc"):
		if len(b) < 5 || b[0] != 0 || int(binary.BigEndian.Uint32(b[1:5])) > len(b)-5 {
			return nil, false
		}
		b = b[5 : 5+binary.BigEndian.Uint32(b[1:5])]
		fallthrough
	case strings.HasPrefix(ct, "application/proto"):
		return m, proto.Unmarshal(b, m) == nil
	case strings.HasPrefix(ct, "application/json"):
		return m, protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(b, m) == nil
	}
	return nil, false
}

type readCloser struct {
	io.Reader
	io.Closer
}
