// This file holds what the audit process tests of a raft cluster and of
// a CometBFT chain share: exporting through a node, reading an export
// back, listing its records, and a tenant admin's export.

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/knhk/knhk/runtime/audit"
)

// callAs runs knhk in a test's directory with a token.
type callAs func(tok string, args ...string) (int, string, string)

// exportAudit has the operator (clusterToken) export the cluster's
// chain through url into file of dir, in format.
func exportAudit(t *testing.T, as callAs, url, format, file string) {
	t.Helper()
	if code, _, errb := as(clusterToken, "audit", "export", "--server", url, "--format", format, "-o", file); code != 0 || !strings.Contains(errb, "the cluster's audit chain as "+url+" applied it at") {
		t.Fatalf("export from %s: %s", url, errb)
	}
}

// readEvidence reads the export file of dir.
func readEvidence(t *testing.T, dir, file string) *audit.Evidence {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := audit.DecodeEvidence(b)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return ev
}

// auditActions lists ev's records in clear, one line each.
func auditActions(ev *audit.Evidence, line func(*audit.Record) string) string {
	var out []string
	for _, e := range ev.Records {
		if e.Record != nil {
			out = append(out, line(e.Record))
		}
	}
	return strings.Join(out, "\n")
}

// actionResult is a record's line: its action and result.
func actionResult(r *audit.Record) string { return r.Action + " " + r.Result }

// checkTenantExport has tenant's admin (tok) export through url: its own
// records in clear and every other as digests of the chain all holds
// (at least).
func checkTenantExport(t *testing.T, dir string, as callAs, url, tenant, tok string, all *audit.Evidence) {
	t.Helper()
	file := tenant + ".json"
	if code, _, errb := as(tok, "audit", "export", "--server", url, "-o", file); code != 0 {
		t.Fatalf("%s's export: %s", tenant, errb)
	}
	mine := readEvidence(t, dir, file)
	if !strings.Contains(mine.Scope, "tenant "+tenant) || len(mine.Records) < len(all.Records) || mine.Found.Problem != nil {
		t.Fatalf("%s's export: scope %q, %d records, %v", tenant, mine.Scope, len(mine.Records), mine.Found.Problem)
	}
	for i, e := range mine.Records[:len(all.Records)] {
		if e.Hash != all.Records[i].Hash || e.Record != nil && e.Record.Tenant != tenant {
			t.Fatalf("%s's export, record %d: %+v", tenant, i, e)
		}
	}
}
