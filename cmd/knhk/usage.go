// This file implements "knhk usage": signed monthly usage reports
// counted from the event log, and their offline verification.

package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/knhk/knhk/runtime/license"
	"github.com/knhk/knhk/runtime/meter"
	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/runtime/store"
)

var usageCmd = &command{
	name:      "usage",
	usageLine: "knhk usage report --key KEY (--customer C [--tenant T] | --license FILE) [--month YYYY-MM] [--data DIR | --server URL] [-o FILE] | verify --trust KEY [--policy P] [--data DIR | --server URL] FILE",
	short:     "signed monthly usage reports from the event log",
	long: `Usage report counts one calendar month (UTC; default the current month)
of the data directory's event log: cases started, transitions fired,
task time, accelerator time (from the ledger knhk serve keeps beside
the log, DIR/meter/accelerator.json), the bytes of its event records, the range of sequence
numbers and a digest of those records. It signs the report with KEY and
writes it to -o FILE or standard output. The customer and tenant come
from --customer and --tenant, or from the licence --license names. A
server may be running on DIR: the log is read, not locked.

Usage verify checks, offline, that a report is signed by a key in KEY
(a .pub file or a directory of them) of class --policy or stronger
(default hybrid), and prints it. With --data it also recounts the month
from that directory's log and fails, naming each field, unless the
report reconciles exactly.

With --server URL, a node of a raft cluster (knhk serve --node), the
month is counted from the cluster's replicated log instead, as the
node answers it (GET /cluster/v1/usage): with serve --tenants, the log
of the tenant whose token the CLI sends ($KNHK_TOKEN, credentials as
for --server elsewhere). The record sequence numbers are raft indexes;
every node that applied the same entries counts the same. The report
records the raft index of the tenant's group it was counted at
(applied_index). Verify --server recounts the month at that node (any
node of the cluster, leader or follower) exactly as of that index: the
node first waits (up to 30 seconds) until it has applied it, then counts
only the entries up to it, so a report of a month still open reconciles
however far the log has moved on. An index beyond the cluster's log is
refused, as is a token of another tenant than the report's. Accelerator
time travels through the log too (every node's kernel calls), so a
cluster's report counts and reconciles it like the other fields.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		key := fs.String("key", "", "sign with the private key `KEY`")
		customer := fs.String("customer", "", "the customer `C` the report is for")
		tenant := fs.String("tenant", "", "the tenant `T` the report is for")
		lic := fs.String("license", "", "take the customer and tenant from the licence `FILE`")
		month := fs.String("month", "", "the month `YYYY-MM` (default the current month, UTC)")
		data := fs.String("data", "", "the data `DIR` (default .knhk for report; verify recounts only when given)")
		out := fs.String("o", "", "write the report to `FILE`")
		trust := fs.String("trust", "", "the signer's public key `KEY` (a .pub file or a directory)")
		policy := fs.String("policy", "hybrid", "accept signatures of class `P` or stronger")
		server := fs.String("server", "", "count from the replicated log of the raft cluster node at `URL`")
		return func(e *env, args []string) int {
			if len(args) == 0 {
				return usageError(e, "want a subcommand: report or verify")
			}
			sub, rest := args[0], args[1:]
			if *server != "" && *data != "" {
				return usageError(e, "give --data or --server, not both")
			}
			switch sub {
			case "report":
				if len(rest) != 0 {
					return usageError(e, "report takes no arguments, got %d", len(rest))
				}
				if *key == "" {
					return usageError(e, "give the signing key with --key")
				}
				if (*customer == "") == (*lic == "") {
					return usageError(e, "give one of --customer and --license")
				}
				m := *month
				if m == "" {
					m = meter.Month(time.Now().UnixNano())
				}
				d := *data
				if d == "" && *server == "" {
					d = ".knhk"
				}
				return runUsageReport(e, *key, *customer, *tenant, *lic, m, usageSource{data: d, server: *server}, *out)
			case "verify":
				if len(rest) != 1 {
					return usageError(e, "verify wants exactly one FILE, got %d", len(rest))
				}
				if *trust == "" {
					return usageError(e, "verify needs the signer's public key: --trust KEY")
				}
				pol, err := sign.ParsePolicy(*policy)
				if err != nil {
					return usageError(e, "%v", err)
				}
				return runUsageVerify(e, *trust, pol, usageSource{data: *data, server: *server}, rest[0])
			}
			return usageError(e, "unknown subcommand %q (want report or verify)", sub)
		}
	},
}

// countMonth counts month of data's log.
func countMonth(data, month string) (meter.Usage, error) {
	if _, err := os.Stat(data); err != nil {
		return meter.Usage{}, fmt.Errorf("data directory: %w", err)
	}
	st, err := store.OpenReadOnly(data, store.Options{})
	if err != nil {
		return meter.Usage{}, err
	}
	defer st.Close()
	u, err := meter.Count(context.Background(), st, month)
	if err != nil {
		return u, err
	}
	// Accelerator time is not in the log: the ledger the server keeps
	// beside it has it (runtime/meter's accel.go).
	l, err := meter.ReadLedger(data)
	if err != nil {
		return u, err
	}
	a := l.Month(month)
	u.AcceleratorNS, u.AcceleratorCalls = a.NS, a.Calls
	return u, nil
}

// usageSource is where a month is counted: a data directory's log, or
// a cluster node's replicated log (clusterusage.go).
type usageSource struct{ data, server string }

// where names src in messages.
func (src usageSource) where() string {
	if src.server != "" {
		return "the replicated log at " + src.server
	}
	return "the event log of " + src.data
}

// count counts month at src; tenant, when not empty (or exact), must
// be the tenant whose log a cluster node answers for (tenantMismatch).
// It returns the tenant counted (tenant, for a data directory).
func (src usageSource) count(month, tenant string, exact bool, at uint64) (meter.Usage, string, error) {
	if src.server == "" {
		if at != 0 {
			return meter.Usage{}, "", fmt.Errorf("the report was counted at raft index %d of a cluster's log: reconcile it with --server NODE, not a data directory", at)
		}
		u, err := countMonth(src.data, month)
		return u, tenant, err
	}
	// The tenant first: a report's index is an index of its tenant's
	// group, not of the log the token reads.
	cu, err := countClusterMonth(src.server, month, 0)
	if err != nil {
		return meter.Usage{}, "", err
	}
	if err := tenantMismatch(tenant, exact, cu); err != nil {
		return meter.Usage{}, "", err
	}
	if at != 0 {
		if cu, err = countClusterMonth(src.server, month, at); err != nil {
			return meter.Usage{}, "", err
		}
		if err := tenantMismatch(tenant, exact, cu); err != nil {
			return meter.Usage{}, "", err
		}
	}
	return cu.meterUsage(), cu.reportTenant(), nil
}

func runUsageReport(e *env, keyPath, customer, tenant, lic, month string, src usageSource, out string) int {
	if _, err := time.Parse("2006-01", month); err != nil {
		return usageError(e, "--month %q: want YYYY-MM", month)
	}
	if lic != "" {
		b, err := readSmall(lic)
		if err == nil {
			var l *license.License
			if l, err = license.Parse(b); err == nil {
				customer, tenant = l.Customer, l.Tenant
			}
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: licence %s: %v\n", lic, err)
			return exitUser
		}
	}
	k, err := readPrivateKey(keyPath)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	u, counted, err := src.count(month, tenant, false, 0)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	u.Customer, u.Tenant = customer, counted
	b, err := meter.Sign(k, u)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	if out == "" {
		e.stdout.Write(b)
		return exitOK
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	fmt.Fprintf(e.stderr, "wrote usage report %s: %s, %s: %d cases, %d transitions\n", out, customer, month, u.Cases, u.Transitions)
	return exitOK
}

func runUsageVerify(e *env, trust string, policy sign.Policy, src usageSource, file string) int {
	b, err := readSmall(file)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: usage report %v\n", err)
		return exitUser
	}
	r, err := meter.Parse(b)
	if err == nil {
		var ts *sign.TrustSet
		if ts, err = readIssuers(trust); err == nil {
			err = r.Verify(ts, policy)
		}
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %s: %v\n", file, err)
		return exitUser
	}
	reconciled := ""
	if src.data != "" || src.server != "" {
		u, _, err := src.count(r.Month, r.Tenant, true, r.AppliedIndex)
		if err == nil {
			err = r.Reconcile(u)
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: %s: %v\n", file, err)
			return exitUser
		}
		reconciled = ", reconciled with " + src.where()
	}
	u := r.Usage
	fmt.Fprintf(e.stdout, "usage report %s OK: signed by %s key %s%s\ncustomer:      %s\n", file, r.Sig.Alg, r.Sig.KeyID, reconciled, u.Customer)
	if u.Tenant != "" {
		fmt.Fprintf(e.stdout, "tenant:        %s\n", u.Tenant)
	}
	fmt.Fprintf(e.stdout, "month:         %s\ncases:         %d\ntransitions:   %d\nevents:        %d\ntask time:     %v\naccelerator:   %v in %d calls\nstorage bytes: %d\nrecords:       %d..%d\ndigest:        %s\n",
		u.Month, u.Cases, u.Transitions, u.Events, time.Duration(u.TaskTimeNS), time.Duration(u.AcceleratorNS), u.AcceleratorCalls, u.StorageBytes, u.FirstSeq, u.LastSeq, u.Digest)
	if u.AppliedIndex != 0 {
		fmt.Fprintf(e.stdout, "counted at:    raft index %d\n", u.AppliedIndex)
	}
	return exitOK
}
