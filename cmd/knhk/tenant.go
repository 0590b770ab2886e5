// This file implements "knhk tenant": creating, listing, suspending and
// deleting the tenants of a data directory served by knhk serve
// --tenants, and issuing their credentials.

package main

import (
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/server/auth"
	"github.com/knhk/knhk/server/tenant"
)

var tenantCmd = &command{
	name:      "tenant",
	usageLine: "knhk tenant create [--rate N] [--burst N] [--max-running N] [--in-flight N] [--ttl D] [--format jwt|knhk] [--key KEY] [--encrypt] [KEYS] ID | token [--role R] [--subject S] [--ttl D] [--once] [--format jwt|knhk] [--key KEY] ID | set [--rate N] [--burst N] [--max-running N] [--in-flight N] [KEYS] ID | list | suspend ID | resume ID | delete ID | revoke --jti ID|--subject S|--cert-serial HEX ID | erase ID  [--data DIR | --server URL]",
	short:     "create, list, suspend and delete tenants and issue their tokens",
	long: `Tenant manages the tenants of the data directory --data (default
./.knhk) that knhk serve --tenants serves (docs/tenancy.md). Each tenant's
cases, programs, queues and event log live in DIR/tenants/ID/data, apart
from every other tenant's; a call reaches only the tenant its token
names.

Tenant create ID registers the tenant and prints its first admin
credential: a bearer token (a JWT signed with the data directory's
issuer key, DIR/tenants/issuer.key, made on first use) valid for --ttl
(default 720h). Give it to the CLI as KNHK_TOKEN, or in the file
KNHK_TOKEN_FILE (default: knhk/token under the user's config directory).
--rate and --burst limit the tenant's API calls a second, --max-running
its cases running at once (0: unlimited), --in-flight its calls the
server works on at once (0: unbounded; the others wait their turn).

Tenant set ID changes the quotas given (a running server applies them
within a second).

KEYS, on create and set, are the tenant's own: --sign-key KEY (new makes
an mldsa65-ed25519 key) signs its receipts and deployed descriptors,
--trust DIR admits only its deploys signed by DIR's keys (--policy P the
weakest class), --license FILE (verified against --license-trust KEY or
KNHK_LICENSE_TRUST; a licence naming another tenant is refused) limits
its cases alone. They are copied into DIR/tenants/ID (none removes one),
and a running server reopens the tenant with them within a second. Its
receipts verify with knhk receipts verify --data DIR/tenants/ID/data
--trust DIR/tenants/ID/sign.pub.

Tenant token ID prints another token for ID with --role viewer,
operator, deployer or admin (default viewer) and --subject S. --once
makes a one-time token: the server accepts it for one call and refuses
it again (a captured request replayed with it is refused). Create and
token print the token's id (jti) on stderr.

Tenant revoke --jti JTI ID refuses the token JTI of tenant ID (default:
the data directory's own tenant); revoke --subject S ID refuses every
token of subject S issued up to now (a later one is good). They are kept
in DIR/tenants/ID/revoked.json; a running server rereads it within a
second and refuses them even when it had accepted them before.
Revoke --cert-serial HEX ID refuses the client certificate of that
serial number (openssl x509 -serial; colons allowed) on mTLS calls of
tenant ID (the certificate's O).

--format knhk issues knhk's own compact token instead of a JWT, signed
with the composite ML-DSA-65+Ed25519 key DIR/tenants/issuer-pq.key (made
on first use), or with --key KEY (knhk keygen --alg mldsa65-ed25519),
whose public key the server must trust (knhk serve --auth-trust). The
format is in docs/tenancy.md.

Tenant list prints each tenant, its state and quotas. Tenant suspend
refuses the tenant's calls (its data is kept; running cases go on) until
tenant resume. Tenant delete refuses its calls for good and erases its
directory (a running server erases it within a second); the id is never
reused. A running server picks up every change within a second.

Tenant create --encrypt encrypts the tenant's cases under keys of their
own, so that tenant erase ID (every case's key, with the server stopped;
through a server: knhk case erase --server URL --tenant ID --all) and
knhk case erase (one case) crypto-shred them (docs/audit.md).

--server URL administers the tenants of a raft cluster (knhk serve --node
--tenants) through any of its nodes, with the cluster's token (KNHK_TOKEN,
KNHK_TOKEN_FILE or the config file): create, set (quotas, and --trust,
--policy, --license and --license-trust: public files, checked here and by
the leader; --sign-key, a private key, is refused), list, suspend,
resume, delete, erase, token (--once too) and revoke. The change is
committed to the cluster's raft log, so every node applies it, whichever
node it went through and whichever nodes are down while a majority is
up; create prints the tenant's first admin token, signed by the node
that committed it.
Create --encrypt seals every node's copy of the tenant's raft group at
rest with a key of that node's own; erase ID then deletes the tenant
and has every node destroy its key (crypto-shredding; so does knhk case
erase --server URL --tenant ID --all with the tenant's admin token). A
cluster node's DIR/tenants is the cluster's copy and is not changed with
--data (docs/cluster.md).
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		data := fs.String("data", ".knhk", "the data `DIR`")
		server := fs.String("server", "", "administer the tenants of the raft cluster at `URL` (any node) instead of --data")
		var q tenant.Quota
		fs.Float64Var(&q.Rate, "rate", 0, "allow the tenant `N` API calls a second (0: unlimited)")
		fs.IntVar(&q.Burst, "burst", 0, "allow `N` calls at once above --rate (default: a second's worth)")
		fs.IntVar(&q.MaxRunning, "max-running", 0, "allow the tenant `N` running cases (0: unlimited)")
		fs.IntVar(&q.InFlight, "in-flight", 0, "let the server work on `N` of the tenant's calls at once, the rest waiting their turn (0: unbounded)")
		ttl := fs.Duration("ttl", 720*time.Hour, "the token is valid for `DURATION`")
		role := fs.String("role", "viewer", "the token's `ROLE` (viewer, operator, deployer, admin)")
		subject := fs.String("subject", "", "the token's subject `S` (default ID-ROLE)")
		var tf tokenFormat
		fs.StringVar(&tf.format, "format", "jwt", "the token's `FORMAT`: jwt (Ed25519 JWT) or knhk (composite ML-DSA-65+Ed25519)")
		fs.StringVar(&tf.key, "key", "", "sign a knhk token with the composite private key `KEY` (implies --format knhk)")
		fs.BoolVar(&tf.once, "once", false, "issue a one-time token, good for a single call")
		encrypt := fs.Bool("encrypt", false, "create: encrypt the tenant's cases, so that they can be erased (knhk case erase; docs/audit.md)")
		var kf tenantKeyFlags
		kf.define(fs) // tenantkeys.go
		var rf revokeFlags
		rf.define(fs) // tenantrevoke.go
		return func(e *env, args []string) int {
			if len(args) == 0 {
				return usageError(e, "want a subcommand: create, token, set, list, suspend, resume, delete, revoke or erase")
			}
			sub, rest := args[0], args[1:]
			if sub == "list" {
				if len(rest) != 0 {
					return usageError(e, "list takes no arguments, got %d", len(rest))
				}
				if *server != "" {
					return runTenantRemote(e, *server, sub, "", tenantAdminRequest{})
				}
				return runTenantList(e, *data)
			}
			if len(rest) != 1 {
				return usageError(e, "%s wants exactly one tenant ID, got %d", sub, len(rest))
			}
			id := rest[0]
			if *ttl <= 0 {
				return usageError(e, "--ttl must be positive, got %v", *ttl)
			}
			if q.Rate < 0 || q.Burst < 0 || q.MaxRunning < 0 || q.InFlight < 0 {
				return usageError(e, "--rate, --burst, --max-running and --in-flight must not be negative")
			}
			if tf.key != "" && tf.format == "jwt" {
				tf.format = "knhk"
			}
			if tf.format != "jwt" && tf.format != "knhk" {
				return usageError(e, "--format: want jwt or knhk, got %q", tf.format)
			}
			if *server != "" {
				return tenantRemote(e, fs, *server, sub, id, q, *ttl, *role, *subject, tf, *encrypt, &kf, rf)
			}
			switch sub {
			case "create", "set", "suspend", "resume", "delete", "revoke":
				if tenant.Replicated(*data) {
					return tenantFail(e, fmt.Errorf("%s is a cluster node's copy of its cluster's tenants, rewritten from the cluster's log; change them with knhk tenant %s --server URL", *data, sub))
				}
			}
			switch sub {
			case "create":
				return encryptCreated(e, *data, id, *encrypt, runTenantCreate(e, *data, id, q, *ttl, tf, &kf)) // erase.go
			case "token":
				r, err := auth.ParseRole(*role)
				if err != nil {
					return usageError(e, "--role: %v", err)
				}
				return runTenantToken(e, *data, id, r, *subject, *ttl, tf)
			case "set":
				given := map[string]bool{}
				fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
				if !given["rate"] && !given["burst"] && !given["max-running"] && !given["in-flight"] && !kf.given() {
					return usageError(e, "set wants at least one of --rate, --burst, --max-running, --in-flight, --sign-key, --trust, --license and --policy")
				}
				return runTenantSet(e, *data, id, q, given, &kf)
			case "suspend":
				return runTenantState(e, *data, id, tenant.Suspended)
			case "resume":
				return runTenantState(e, *data, id, tenant.Active)
			case "delete":
				return runTenantState(e, *data, id, tenant.Deleted)
			case "revoke":
				return runTenantRevoke(e, *data, id, rf, *subject)
			case "erase":
				return runTenantErase(e, *data, id) // erase.go
			}
			return usageError(e, "unknown subcommand %q (want create, token, set, list, suspend, resume, delete, revoke or erase)", sub)
		}
	},
}

// tenantRemote checks the flags of knhk tenant --server and runs it.
func tenantRemote(e *env, fs *flag.FlagSet, server, sub, id string, q tenant.Quota, ttl time.Duration, role, subject string, tf tokenFormat, encrypt bool, kf *tenantKeyFlags, rf revokeFlags) int {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	switch {
	case sub != "create" && sub != "set" && sub != "suspend" && sub != "resume" && sub != "delete" && sub != "erase" && sub != "token" && sub != "revoke":
		return usageError(e, "%s with --server is not supported; --server takes create, set, list, suspend, resume, delete, erase, token and revoke", sub)
	case given["data"]:
		return usageError(e, "give --data or --server, not both")
	case kf.signKey != "":
		return usageError(e, "--sign-key is not supported with --server: a tenant's signing key is private and never leaves the node it was made on (a cluster writes no receipts yet)")
	case kf.given() && sub != "create" && sub != "set":
		return usageError(e, "--trust, --license, --license-trust and --policy are for create and set")
	case tf.format != "jwt":
		return usageError(e, "--format knhk and --key are not supported with --server yet (the nodes sign tokens with their own Ed25519 issuer keys); give them to a tenant with --data before its cluster serves it")
	case tf.once && sub != "token":
		return usageError(e, "--once is for token")
	case encrypt && sub != "create":
		return usageError(e, "--encrypt is for create")
	}
	req := tenantAdminRequest{Quota: q, Subject: subject, Encrypt: encrypt, JTI: rf.jti, Serial: rf.serial, Policy: kf.policy}
	if kf.policy != "" {
		if _, err := sign.ParsePolicy(kf.policy); err != nil {
			return usageError(e, "--policy: %v", err)
		}
	}
	if kf.given() {
		// Read and checked here, as --data would (nothing is sent when
		// one is bad), and again by the cluster's leader.
		files, replace, err := remoteTenantFiles(e, id, kf)
		if err != nil {
			return tenantFail(e, err)
		}
		req.Files, req.Replace = files, replace
	}
	if sub == "revoke" && !revokesOne(rf.jti, subject, rf.serial) {
		return usageError(e, "revoke wants exactly one of --jti ID, --subject S and --cert-serial HEX")
	}
	if given["ttl"] {
		req.TTL = ttl.String()
	}
	if sub == "token" {
		req.Role, req.Once = role, tf.once
	}
	for _, n := range quotaNames {
		if given[n] {
			req.Given = append(req.Given, n)
		}
	}
	if sub == "set" && len(req.Given) == 0 && !kf.given() {
		return usageError(e, "set wants at least one of --rate, --burst, --max-running, --in-flight, --trust, --license and --policy")
	}
	return runTenantRemote(e, server, sub, id, req)
}

// revokesOne reports whether a revocation names exactly one of a token
// id, a subject and a certificate serial.
func revokesOne(jti, subject, serial string) bool {
	n := 0
	for _, v := range []string{jti, subject, serial} {
		if v != "" {
			n++
		}
	}
	return n == 1
}

func tenantFail(e *env, err error) int {
	fmt.Fprintf(e.stderr, "knhk tenant: %v\n", err)
	return exitUser
}

// tokenFormat is how knhk tenant signs the tokens it prints.
type tokenFormat struct {
	format string // jwt or knhk
	key    string // the composite key of a knhk token; default the data directory's
	once   bool   // a one-time token
}

// issue signs a token for p valid for ttl: a JWT with the data
// directory's Ed25519 issuer key, or a knhk token with the composite key.
func (tf tokenFormat) issue(data string, p auth.Principal, ttl time.Duration) (string, error) {
	p.Once = tf.once
	if tf.format == "knhk" {
		var k *sign.PrivateKey
		var err error
		if tf.key != "" {
			k, err = readPrivateKey(tf.key)
		} else {
			k, err = tenant.SignerKey(data)
		}
		if err != nil {
			return "", err
		}
		return auth.IssueSigned(k, tenant.Issuer, "", p, ttl, time.Now())
	}
	priv, err := tenant.IssuerKey(data)
	if err != nil {
		return "", err
	}
	return auth.Issue(priv, tenant.Issuer, p, ttl, time.Now())
}

func runTenantCreate(e *env, data, id string, q tenant.Quota, ttl time.Duration, tf tokenFormat, kf *tenantKeyFlags) int {
	reg, err := tenant.Load(data)
	if err != nil {
		return tenantFail(e, err)
	}
	t, err := reg.Create(id, q, time.Now())
	if err != nil {
		return tenantFail(e, err)
	}
	if err := kf.apply(e, data, t); err != nil {
		return tenantFail(e, err)
	}
	jti := auth.NewTokenID()
	tok, err := tf.issue(data, auth.Principal{Subject: id + "-admin", Tenant: id, Role: auth.RoleAdmin, ID: jti}, ttl)
	if err != nil {
		return tenantFail(e, err)
	}
	if err := reg.Save(data); err != nil {
		return tenantFail(e, err)
	}
	fmt.Fprintf(e.stderr, "token id %s (knhk tenant revoke --jti %s %s refuses it)\n", jti, jti, id)
	fmt.Fprintf(e.stderr, "created tenant %s; its admin token (valid %v) follows\n", id, ttl)
	fmt.Fprintln(e.stdout, tok)
	return exitOK
}

func runTenantToken(e *env, data, id string, role auth.Role, subject string, ttl time.Duration, tf tokenFormat) int {
	reg, err := tenant.Load(data)
	if err != nil {
		return tenantFail(e, err)
	}
	if id != auth.DefaultTenant {
		t := reg.Get(id)
		if t == nil || t.State == tenant.Deleted {
			return tenantFail(e, fmt.Errorf("no tenant %s", id))
		}
	}
	if subject == "" {
		subject = id + "-" + role.String()
	}
	jti := auth.NewTokenID()
	tok, err := tf.issue(data, auth.Principal{Subject: subject, Tenant: id, Role: role, ID: jti}, ttl)
	if err != nil {
		return tenantFail(e, err)
	}
	fmt.Fprintf(e.stderr, "token id %s (knhk tenant revoke --jti %s %s refuses it)\n", jti, jti, id)
	fmt.Fprintln(e.stdout, tok)
	return exitOK
}

func runTenantList(e *env, data string) int {
	reg, err := tenant.Load(data)
	if err != nil {
		return tenantFail(e, err)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tSTATE\tCREATED\tRATE\tBURST\tMAX-RUNNING\tOWN")
	for _, t := range reg.Tenants {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.State, t.Created.Format(time.RFC3339), limit(t.Quota.Rate), limit(float64(t.Quota.Burst)), limit(float64(t.Quota.MaxRunning)), ownKeys(data, t.ID))
	}
	tw.Flush()
	return exitOK
}

// ownKeys says which of its own keys and licence tenant id carries
// (tenantkeys.go): sign-key, trust, licence; "-" for none.
func ownKeys(data, id string) string {
	var out []string
	for _, k := range []struct{ name, path string }{
		{"sign-key", tenant.SignKeyPath(data, id)},
		{"trust", tenant.TrustDir(data, id)},
		{"licence", tenant.LicensePath(data, id)},
	} {
		if ok, _ := tenant.Exists(k.path); ok {
			out = append(out, k.name)
		}
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ",")
}

func limit(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprint(v)
}

func runTenantState(e *env, data, id string, s tenant.State) int {
	reg, err := tenant.Load(data)
	if err != nil {
		return tenantFail(e, err)
	}
	t := reg.Get(id)
	if t == nil {
		return tenantFail(e, fmt.Errorf("no tenant %s", id))
	}
	if t.State == tenant.Deleted {
		return tenantFail(e, fmt.Errorf("tenant %s is deleted", id))
	}
	t.State = s
	if err := reg.Save(data); err != nil {
		return tenantFail(e, err)
	}
	if s == tenant.Deleted {
		if err := tenant.Erase(data, id); err != nil {
			fmt.Fprintf(e.stderr, "knhk tenant: tenant %s deleted; %v\n", id, err)
			return exitOK
		}
		fmt.Fprintf(e.stderr, "tenant %s deleted and its data erased\n", id)
		return exitOK
	}
	fmt.Fprintf(e.stderr, "tenant %s %s\n", id, s)
	return exitOK
}

func runTenantSet(e *env, data, id string, q tenant.Quota, given map[string]bool, kf *tenantKeyFlags) int {
	reg, err := tenant.Load(data)
	if err != nil {
		return tenantFail(e, err)
	}
	t := reg.Get(id)
	if t == nil || t.State == tenant.Deleted {
		return tenantFail(e, fmt.Errorf("no tenant %s", id))
	}
	if given["rate"] {
		t.Quota.Rate = q.Rate
	}
	if given["burst"] {
		t.Quota.Burst = q.Burst
	}
	if given["max-running"] {
		t.Quota.MaxRunning = q.MaxRunning
	}
	if given["in-flight"] {
		t.Quota.InFlight = q.InFlight
	}
	if err := kf.apply(e, data, t); err != nil {
		return tenantFail(e, err)
	}
	if err := reg.Save(data); err != nil {
		return tenantFail(e, err)
	}
	fmt.Fprintf(e.stderr, "tenant %s: rate %s, burst %s, max-running %s\n", id, limit(t.Quota.Rate), limit(float64(t.Quota.Burst)), limit(float64(t.Quota.MaxRunning)))
	return exitOK
}
