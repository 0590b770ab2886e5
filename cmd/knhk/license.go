// This file implements "knhk license": issuing, showing and verifying
// licence tokens.

package main

import (
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/knhk/knhk/runtime/license"
)

var licenseCmd = &command{
	name:      "license",
	usageLine: "knhk license issue --key KEY --tiers FILE --tier T --customer C [--tenant T] (--expires DATE | --days N) [--set LIMIT=VALUE]... [-o FILE] | show [--trust KEY] FILE | verify --trust KEY FILE",
	short:     "issue, show and verify licence tokens",
	long: `License issue writes a licence for customer C on tier T: the limits of T
in the tiers file (a JSON file; see docs/licensing.md) copied into the
licence, changed by --set LIMIT=VALUE (a count, "unlimited", true/false
for accelerator, days for grace_days), valid until --expires (a date,
YYYY-MM-DD, or an RFC 3339 time) or for --days days. KEY is the issuer's
private key, which must be a composite mldsa65-ed25519 key (knhk keygen
--alg mldsa65-ed25519). The licence goes to -o FILE, or standard output.

License show prints what a licence grants; with --trust it verifies it
first. License verify checks, offline, that the licence is signed by the
issuer key KEY (a .pub file or a directory of them) with the composite
algorithm and is not tampered, and prints where it stands: valid,
expired but within its grace period (a warning), or expired (exit
status 1). A tampered licence, one of another issuer or algorithm, or a
damaged file is an error saying which, with exit status 1.

knhk serve --license FILE --license-trust KEY enforces a licence.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		var o licenseIssue
		fs.StringVar(&o.key, "key", "", "sign with the issuer's private key `KEY`")
		fs.StringVar(&o.tiers, "tiers", "", "the tiers `FILE`")
		fs.StringVar(&o.tier, "tier", "", "the tier `T`")
		fs.StringVar(&o.customer, "customer", "", "the customer `C`")
		fs.StringVar(&o.tenant, "tenant", "", "the tenant `T` the licence applies to (default: the whole deployment)")
		fs.StringVar(&o.expires, "expires", "", "valid until `DATE` (YYYY-MM-DD, UTC midnight, or RFC 3339)")
		fs.IntVar(&o.days, "days", 0, "valid for `N` days")
		fs.Func("set", "change a limit of the tier: `LIMIT=VALUE`", func(s string) error {
			o.sets = append(o.sets, s)
			return nil
		})
		fs.StringVar(&o.out, "o", "", "write the licence to `FILE`")
		trust := fs.String("trust", "", "the issuer's public key `KEY` (a .pub file or a directory)")
		return func(e *env, args []string) int {
			if len(args) == 0 {
				return usageError(e, "want a subcommand: issue, show or verify")
			}
			sub, rest := args[0], args[1:]
			switch sub {
			case "issue":
				if len(rest) != 0 {
					return usageError(e, "issue takes no arguments, got %d", len(rest))
				}
				return runLicenseIssue(e, &o)
			case "show", "verify":
				if len(rest) != 1 {
					return usageError(e, "%s wants exactly one FILE, got %d", sub, len(rest))
				}
				if sub == "verify" && *trust == "" {
					return usageError(e, "verify needs the issuer's public key: --trust KEY")
				}
				return runLicenseCheck(e, sub, *trust, rest[0])
			}
			return usageError(e, "unknown subcommand %q (want issue, show or verify)", sub)
		}
	},
}

type licenseIssue struct {
	key, tiers, tier, customer, tenant, expires, out string
	days                                             int
	sets                                             []string
}

func runLicenseIssue(e *env, o *licenseIssue) int {
	switch {
	case o.key == "":
		return usageError(e, "give the issuer's private key with --key")
	case o.tiers == "" || o.tier == "":
		return usageError(e, "give the tiers file and the tier with --tiers and --tier")
	case o.customer == "":
		return usageError(e, "name the customer with --customer")
	case (o.expires == "") == (o.days == 0):
		return usageError(e, "give one of --expires DATE and --days N")
	case o.days < 0:
		return usageError(e, "--days must be positive, got %d", o.days)
	}
	now := time.Now().UTC().Truncate(time.Second)
	expires := now.AddDate(0, 0, o.days)
	if o.expires != "" {
		t, err := parseExpiry(o.expires)
		if err != nil {
			return usageError(e, "--expires: %v", err)
		}
		expires = t
	}
	k, err := readPrivateKey(o.key)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	b, err := os.ReadFile(o.tiers)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: tiers file: %v\n", err)
		return exitUser
	}
	ts, err := license.ParseTiers(b)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %s: %v\n", o.tiers, err)
		return exitUser
	}
	limits, err := ts.Tier(o.tier)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %s: %v\n", o.tiers, err)
		return exitUser
	}
	for _, s := range o.sets {
		name, value, ok := strings.Cut(s, "=")
		if !ok {
			return usageError(e, "--set %q: want LIMIT=VALUE", s)
		}
		if err := limits.Set(name, value); err != nil {
			return usageError(e, "--set: %v", err)
		}
	}
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitInternal
	}
	out, err := license.Issue(k, license.Payload{ID: hex.EncodeToString(id[:]), Customer: o.customer, Tenant: o.tenant,
		Tier: o.tier, Limits: limits, Issued: now, Expires: expires})
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	if o.out == "" {
		e.stdout.Write(out)
		return exitOK
	}
	if err := os.WriteFile(o.out, out, 0o644); err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	fmt.Fprintf(e.stderr, "wrote licence %s for %s, tier %s, until %s\n", o.out, o.customer, o.tier, expires.Format(time.RFC3339))
	return exitOK
}

// parseExpiry reads a date (UTC midnight at its start) or an RFC 3339
// time.
func parseExpiry(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a date (YYYY-MM-DD) nor an RFC 3339 time", s)
	}
	return t.UTC(), nil
}

func runLicenseCheck(e *env, sub, trust, file string) int {
	var l *license.License
	var err error
	if trust != "" {
		l, err = readLicense(file, trust)
	} else {
		var b []byte
		if b, err = readSmall(file); err == nil {
			l, err = license.Parse(b)
		}
		if err != nil {
			err = fmt.Errorf("licence %s: %w", file, err)
		}
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	now := time.Now()
	if sub == "show" {
		signed := "not checked (give --trust KEY)"
		if trust != "" {
			signed = "verified"
		}
		fmt.Fprintf(e.stdout, "licence:   %s\ncustomer:  %s\n", l.ID, l.Customer)
		if l.Tenant != "" {
			fmt.Fprintf(e.stdout, "tenant:    %s\n", l.Tenant)
		}
		fmt.Fprintf(e.stdout, "tier:      %s\nissued:    %s\nexpires:   %s\nstanding:  %s\nsigned by: %s key %s, %s\nlimits:\n%s",
			l.Tier, l.Issued.Format(time.RFC3339), l.Expires.Format(time.RFC3339), l.Describe(now), l.Sig.Alg, l.Sig.KeyID, signed, l.Limits.String())
		return exitOK
	}
	switch l.At(now) {
	case license.Expired:
		fmt.Fprintf(e.stderr, "knhk: licence %s: %s\n", file, l.Describe(now))
		return exitUser
	case license.Grace:
		fmt.Fprintf(e.stderr, "knhk: warning: licence %s: %s\n", file, l.Describe(now))
	}
	fmt.Fprintf(e.stdout, "licence %s OK: %s, tier %s, signed by %s key %s; %s\n", file, l.Customer, l.Tier, l.Sig.Alg, l.Sig.KeyID, l.Describe(now))
	return exitOK
}
