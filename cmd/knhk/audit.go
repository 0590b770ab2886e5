// This file implements "knhk audit": the audit log's evidence export for
// SOC 2 (json, csv, html), from the data directory or from a knhk serve
// (admins only), and its offline verification.

package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/knhk/knhk/internal/atomicfile"
	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/server/tenant"
)

var auditCmd = &command{
	name:      "audit",
	usageLine: "knhk audit export [--format json|csv|html] [--data DIR | --server URL [--node-local | --cosign URLS]] [--tenant T] [-o FILE] | verify [--data DIR | --evidence FILE] [--trust KEY] [--policy P] [--signers N]",
	short:     "export and verify the audit log: SOC 2 evidence with offline proofs",
	long: `Audit reads the audit log of the data directory --data (default ./.knhk):
one hash-chained record per API call of knhk serve --tenants and per admin
command (knhk tenant, knhk license, erasures), anchored in the receipt
log's signed Merkle tree when the server keeps one (--sign-key).
See docs/audit.md.

Audit export writes an evidence report mapped to the SOC 2 common
criteria CC6 (logical access), CC7 (monitoring) and CC8 (change
management): the records, which criterion each evidences, the anchors,
and the anchors' receipts with their inclusion proofs in the latest
signed checkpoint. --format json (default), csv or html; -o FILE
(written whole or not at all; default standard output). --tenant T
keeps only T's records in clear and the others as digests, so the chain
still verifies. With --server URL (or KNHK_SERVER) the report comes from
a running knhk serve --tenants and needs an admin's token: a tenant
admin gets its own tenant's records, the default tenant's admin all.
From a raft cluster node (serve --node --tenants) it is the cluster's
audit chain, the same from every node, anchored in the Merkle tree of its
records whose head that node signs (DATA/cluster/NODE/audit.key);
--node-local exports that node's own log instead (the reads it
answered, the calls forwarded to it). A raft node has the other nodes
cosign its tree head; --cosign URLS (comma-separated) has the nodes or
CometBFT validators there cosign it too, each from its own copy of the
chain, with KNHK_TOKEN (the nodes' --token-file token): a node that
does not sign that very tree fails the export.

Audit verify checks, offline, the chain of every record, every anchor
against the chain and the anchors' receipt proof, and names the first
bad record. --evidence FILE checks an exported report (json or html)
instead of a data directory. --trust KEY is the receipt signer's public
key (a .pub file or a directory); without it the keys stored beside the
receipt log are used, which shows the log unchanged since it was signed,
not who signed it. For a cluster's export --trust is the nodes'
audit.pub keys: every record's inclusion proof and the tree head's
signature are checked, and those of the heads the other nodes cosigned
from their own replicas; --signers N fails unless N trusted nodes signed
it. With --evidence and --trust, a report that is neither anchored nor
has a tree head fails. Exit status 1 when anything
does not verify.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		data := fs.String("data", ".knhk", "the data `DIR`")
		format := fs.String("format", "json", "the export's `FORMAT`: json, csv or html")
		out := fs.String("o", "", "write the export to `FILE`")
		tenantID := fs.String("tenant", "", "export only tenant `T`'s records in clear")
		srv := serverFlag(fs)
		nodeLocal := fs.Bool("node-local", false, "with --server on a cluster node: that node's own log, not the cluster's chain")
		cosign := fs.String("cosign", "", "with --server on a cluster: have the nodes at `URLS` (comma-separated) cosign the export's tree head")
		evidence := fs.String("evidence", "", "verify the exported report `FILE` instead of a data directory")
		trust := fs.String("trust", "", "the receipt signer's (or a cluster's nodes') public key `KEY` (a .pub file or a directory)")
		policy := fs.String("policy", "classical", "accept receipt checkpoints signed with class `P` or stronger")
		signers := fs.Int("signers", 0, "a cluster's export: require its tree head signed by `N` trusted nodes (with --trust)")
		return func(e *env, args []string) int {
			if len(args) != 1 {
				return usageError(e, "want a subcommand: export or verify")
			}
			switch args[0] {
			case "export":
				if !validFormat(*format) {
					return usageError(e, "unknown --format %q (want json, csv or html)", *format)
				}
				if *nodeLocal && *srv == "" {
					return usageError(e, "--node-local needs --server")
				}
				var cosigners []string
				if *cosign != "" {
					if *srv == "" || *nodeLocal {
						return usageError(e, "--cosign needs --server (a cluster's chain, not --node-local)")
					}
					for _, u := range strings.Split(*cosign, ",") {
						if u = strings.TrimSpace(u); u == "" {
							return usageError(e, "--cosign %q: an empty URL", *cosign)
						}
						cosigners = append(cosigners, u)
					}
				}
				return runAuditExport(e, *data, *srv, *tenantID, *format, *out, *nodeLocal, cosigners)
			case "verify":
				p, err := sign.ParsePolicy(*policy)
				if err != nil {
					return usageError(e, "%v", err)
				}
				if *signers < 0 || *signers > 0 && (*trust == "" || *evidence == "") {
					return usageError(e, "--signers %d: want a count of nodes, with --evidence and --trust", *signers)
				}
				return runAuditVerify(e, *data, *evidence, *trust, p, *signers)
			}
			return usageError(e, "unknown subcommand %q (want export or verify)", args[0])
		}
	},
}

func validFormat(f string) bool {
	for _, x := range audit.Formats {
		if f == x {
			return true
		}
	}
	return false
}

func runAuditExport(e *env, data, srv, tenantID, format, out string, nodeLocal bool, cosigners []string) int {
	var b []byte
	if srv != "" {
		var code int
		fetch := format
		if len(cosigners) > 0 {
			fetch = "json" // the heads are added here (auditcosigncli.go)
		}
		if b, code = fetchAuditExport(e, srv, fetch, nodeLocal); code != exitOK {
			return code
		}
		if len(cosigners) > 0 {
			if b, code = cosignExport(e, b, cosigners, format); code != exitOK {
				return code
			}
		}
	} else {
		ev, err := audit.Collect(data, audit.CollectOptions{Tenant: tenantID})
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
			return exitUser
		}
		var buf bytes.Buffer
		if err := audit.Write(&buf, ev, format); err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
			return exitUser
		}
		b = buf.Bytes()
		if p := ev.Found.Problem; p != nil {
			fmt.Fprintf(e.stderr, "knhk: warning: the audit log does not verify: %v\n", p)
		}
	}
	if out == "" {
		e.stdout.Write(b)
		return exitOK
	}
	if err := atomicfile.Write(out, b, 0o644); err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	return exitOK
}

// fetchAuditExport asks the server at srv for the export, with the
// CLI's bearer token.
func fetchAuditExport(e *env, srv, format string, nodeLocal bool) ([]byte, int) {
	path := tenant.AuditExportPath + "?format=" + url.QueryEscape(format)
	if nodeLocal {
		path += "&scope=" + tenant.NodeLocalScope
	}
	resp, b, code := callFront(e, "knhk", "the export", http.MethodGet, srv, path, 1<<30)
	if code != exitOK {
		return nil, code
	}
	if resp.StatusCode == http.StatusNotFound {
		fmt.Fprintf(e.stderr, "knhk: %s keeps no audit log (only knhk serve --tenants does); export it locally with --data\n", srv)
		return nil, exitUser
	}
	if resp.StatusCode != http.StatusOK {
		reportRefused(e, "knhk", "audit export", resp, b)
		return nil, exitUser
	}
	if n := resp.Header.Get(tenant.ClusterAuditAppliedHeader); n != "" {
		// Another node's export at the same index is the same chain.
		fmt.Fprintf(e.stderr, "knhk: the cluster's audit chain as %s applied it at raft index %s\n", srv, n)
	}
	return b, exitOK
}

// callFront sends a request of method for path (with its query) to the
// tenant front at srv, with the CLI's bearer token, and returns the
// answer and up to limit bytes of its body, called body in a failure to
// read it. code is exitUser once it reported, as prog, that no (whole)
// answer came.
func callFront(e *env, prog, body, method, srv, path string, limit int64) (*http.Response, []byte, int) {
	if !strings.Contains(srv, "://") {
		srv = "http://" + srv
	}
	req, err := http.NewRequest(method, strings.TrimRight(srv, "/")+path, nil)
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: --server: %v\n", prog, err)
		return nil, nil, exitUser
	}
	tok, err := bearerToken()
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: the bearer token file: %v\n", prog, err)
		return nil, nil, exitUser
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := nonceClient().Do(req)
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: server unavailable: %v\n", prog, err)
		return nil, nil, exitUser
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: reading %s: %v\n", prog, body, err)
		return nil, nil, exitUser
	}
	return resp, b, exitOK
}

// reportRefused reports, as prog, the front's refusal of what: its
// error's code and message, else the answer's status and body.
func reportRefused(e *env, prog, what string, resp *http.Response, b []byte) {
	var msg struct{ Code, Message string }
	if json.Unmarshal(b, &msg) == nil && msg.Message != "" {
		fmt.Fprintf(e.stderr, "%s: %s refused (%s): %s\n", prog, what, msg.Code, msg.Message)
	} else {
		fmt.Fprintf(e.stderr, "%s: %s refused: %s %s\n", prog, what, resp.Status, strings.TrimSpace(string(b)))
	}
}

func runAuditVerify(e *env, data, evidence, trustPath string, policy sign.Policy, signers int) int {
	o := audit.VerifyOptions{Policy: policy, Signers: signers}
	if trustPath != "" {
		t, err := readTrust(trustPath)
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
			return exitUser
		}
		o.Trust = t
	}
	var rep *audit.Report
	what := data
	if evidence != "" {
		b, err := os.ReadFile(evidence)
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", unwrapPathError(err))
			return exitUser
		}
		ev, err := audit.DecodeEvidence(b)
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: %s: %v\n", evidence, err)
			return exitUser
		}
		// Keys given: the report must be signed, by a receipt
		// checkpoint or a cluster node's tree head.
		o.Anchored = o.Trust != nil
		rep, what = audit.Check(ev, o), evidence
		if strings.Contains(ev.Scope, tenant.ClusterChainScope) && rep.Problem == nil {
			// A cluster keeps no receipt log: its chain is agreed by the
			// nodes, and anchored in the Merkle tree of its records.
			defer clusterChainVerified(e, rep)
		}
	} else {
		var err error
		if rep, err = audit.Verify(data, o); err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
			return exitUser
		}
	}
	if p := rep.Problem; p != nil {
		fmt.Fprintf(e.stdout, "%s: %d audit records verified\n", what, rep.Records)
		fmt.Fprintf(e.stderr, "knhk: audit log of %s: %v\nfirst bad record: %d\n", what, p, p.Seq)
		return exitUser
	}
	fmt.Fprintf(e.stdout, "%s: %d audit records verified (%d redacted); %d anchors match the chain\n", what, rep.Records, rep.Redacted, rep.Anchors)
	if rep.Proved > 0 {
		fmt.Fprintf(e.stdout, "%d anchors, covering %d records, are in the receipt checkpoint of size %d signed by key %s\n", rep.Proved, rep.Anchored, rep.Checkpoint, rep.Key)
	}
	if rep.ProofNote != "" {
		fmt.Fprintf(e.stdout, "note: %s\n", rep.ProofNote)
	}
	if left := rep.Records - rep.Anchored; rep.Proved > 0 && left > 0 {
		fmt.Fprintf(e.stdout, "%d records after the last proved anchor are chained but not yet anchored\n", left)
	}
	return exitOK
}

// clusterChainVerified says what an auditor checked of a cluster's
// chain: its head, and the tree head its records are proved in.
func clusterChainVerified(e *env, rep *audit.Report) {
	fmt.Fprintf(e.stdout, "the cluster's audit chain: %d records, head %s; agreed by the cluster's nodes through the raft log\n", rep.Records, rep.Head)
	switch {
	case rep.TreeSize == 0 && rep.Records > 0:
		fmt.Fprintf(e.stdout, "not anchored: the report has no signed tree head\n")
	case rep.Key != "":
		fmt.Fprintf(e.stdout, "every record is proved in the Merkle tree of %d records, root %s, whose head node %s signed with key %s; signed by %d trusted node(s): %s\n", rep.TreeSize, rep.TreeRoot, rep.TreeNode, rep.Key, len(rep.TreeSigners), strings.Join(rep.TreeSigners, ", "))
	default:
		fmt.Fprintf(e.stdout, "every record is proved in the Merkle tree of %d records, root %s, whose head node %s signed (not checked: no --trust)\n", rep.TreeSize, rep.TreeRoot, rep.TreeNode)
	}
}
