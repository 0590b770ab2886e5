// This file implements the right to erasure (docs/audit.md): knhk case
// encrypt turns crypto-shredding on for a data directory or a tenant,
// knhk case erase and knhk tenant erase destroy the keys of a case or of
// a tenant, locally or through knhk serve --tenants (POST /erase, admin
// only, audited). It also wires the encryption into the Services that
// knhk serve opens (openEncrypted) and into the local read commands
// (localPayloads), at the two seams every reader goes through: the
// engine's event log on write (audit.Shred, above the receipts) and the
// store's scans on read (store.Options.OpenPayload).

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/store"
	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/auth"
	"github.com/knhk/knhk/server/tenant"
)

var caseCmd = &command{
	name:      "case",
	usageLine: "knhk case encrypt [--data DIR] [--tenant T] | erase [--data DIR] [--tenant T] CASE | erase --server URL [--tenant T] CASE | erase --server URL --tenant T --all",
	short:     "encrypt a data directory's cases and erase (crypto-shred) them",
	long: `Case encrypt turns crypto-shredding on for the new cases of the data
directory --data (default ./.knhk), or of its tenant --tenant T: knhk
serve then encrypts every case's inputs, results, signal payloads and
snapshots under a key of the case's own, sealed for the tenant's key
(docs/audit.md). Cases started before stay in clear. A running server
applies it when the tenant is next opened (restart it for the default
tenant).

Case erase CASE destroys the case's key: its data can never be read
again, its history, inspection and export are refused ("case X was
erased (crypto-shredded)"), its summary keeps its status but not its
result, and the receipts and the audit log still verify. A running case
is refused (cancel it first), and so is a case written without
encryption. Locally (--data, --tenant) the server must be stopped;
through a server (--server URL, KNHK_TOKEN an admin's token) the case is
the token's tenant's (--tenant T names it: another tenant's needs the
operator's token), and --tenant T --all erases the whole tenant T
(knhk tenant erase T does it locally). On a raft cluster (knhk serve
--node --tenants) a case of a tenant created with --encrypt is erased
on every node: each drops it and destroys its own key of it, a node
that was down when it comes back. Every erasure is audited.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		data := fs.String("data", ".knhk", "the data `DIR`")
		tid := fs.String("tenant", "", "the `TENANT` whose data (default: the data directory's own)")
		srv := serverFlag(fs)
		all := fs.Bool("all", false, "with --server and --tenant: erase the whole tenant")
		return func(e *env, args []string) int {
			if len(args) == 0 {
				return usageError(e, "want a subcommand: encrypt or erase")
			}
			sub, rest := args[0], args[1:]
			switch sub {
			case "encrypt":
				if len(rest) != 0 || *srv != "" {
					return usageError(e, "encrypt takes --data and --tenant only")
				}
				return runCaseEncrypt(e, *data, *tid)
			case "erase":
				if *all {
					if *srv == "" || *tid == "" || len(rest) != 0 {
						return usageError(e, "--all erases a whole tenant through a server: --server URL --tenant T --all, no CASE (locally: knhk tenant erase T)")
					}
					return eraseRemote(e, *srv, url.Values{"tenant": {*tid}})
				}
				if len(rest) != 1 {
					return usageError(e, "erase wants exactly one CASE, got %d", len(rest))
				}
				if *srv != "" {
					q := url.Values{"case": {rest[0]}}
					if *tid != "" {
						q.Set("tenant", *tid) // the token's own, or any with the operator's
					}
					return eraseRemote(e, *srv, q)
				}
				return eraseLocal(e, tenantDir(*data, *tid), rest[0])
			}
			return usageError(e, "unknown subcommand %q (want encrypt or erase)", sub)
		}
	},
}

func tenantDir(data, id string) string {
	if id == "" {
		return data
	}
	return tenant.DataDir(data, id)
}

func runCaseEncrypt(e *env, data, tid string) int {
	dir := tenantDir(data, tid)
	if tid != "" {
		if _, err := os.Stat(filepath.Dir(dir)); err != nil {
			fmt.Fprintf(e.stderr, "knhk case: no tenant %s in %s\n", tid, data)
			return exitUser
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(e.stderr, "knhk case: %v\n", err)
		return exitUser
	}
	if _, err := audit.Enable(dir); err != nil {
		fmt.Fprintf(e.stderr, "knhk case: cannot encrypt %s: %v\n", dir, err)
		return exitUser
	}
	fmt.Fprintf(e.stdout, "new cases of %s are encrypted (crypto-shredding on)\n", dir)
	return exitOK
}

// encryptOptions returns o with crypto-shredding on when dir's cases are
// encrypted (audit.Enabled): the engines' event logs encrypt above the
// receipts (o.LogFor), the store's scans decrypt for every reader
// (o.Store.OpenPayload), and the Service erases through the keys.
func encryptOptions(dir string, o server.Options) (server.Options, error) {
	if !audit.Enabled(dir) {
		return o, nil
	}
	keys, err := audit.OpenKeys(dir)
	if err != nil {
		return o, fmt.Errorf("the data keys of %s: %w", dir, err)
	}
	prev := o.LogFor
	o.LogFor = func(log engine.EventLog, descriptor string) engine.EventLog {
		if prev != nil {
			log = prev(log, descriptor)
		}
		return audit.Shred(log, keys)
	}
	o.Store.OpenPayload = keys.OpenRecord
	o.Store.SealPayload = keys.SealRecord
	o.Erasure = keys
	return o, nil
}

// openEncrypted is server.Open with encryptOptions.
func openEncrypted(dir string, o server.Options) (*server.Service, error) {
	o, err := encryptOptions(dir, o)
	if err != nil {
		return nil, err
	}
	return server.Open(dir, o)
}

// localKeys holds the keys of the data directories this process opened
// locally, one Keys a directory (a case's key is made once).
var localKeys sync.Map // dir -> *audit.Keys

func keysOf(dir string) (*audit.Keys, error) {
	if k, ok := localKeys.Load(dir); ok {
		return k.(*audit.Keys), nil
	}
	k, err := audit.OpenKeys(dir)
	if err != nil {
		return nil, fmt.Errorf("the data keys of %s: %w", dir, err)
	}
	got, _ := localKeys.LoadOrStore(dir, k)
	return got.(*audit.Keys), nil
}

// localStoreOptions are the store options of the local commands
// (knhk run, signal, resume and the read commands; casedata.go): an
// encrypted directory's payloads decrypted for every reader, an erased
// case's redacted, snapshots sealed; none for a directory in clear.
func localStoreOptions(dir string) store.Options {
	if !audit.Enabled(dir) {
		return store.Options{}
	}
	keys, err := keysOf(dir)
	if err != nil {
		fail := func(_, _, _ []byte) ([]byte, error) { return nil, err }
		return store.Options{OpenPayload: fail, SealPayload: func(string, string, []byte) ([]byte, error) { return nil, err }}
	}
	return store.Options{OpenPayload: keys.OpenRecord, SealPayload: keys.SealRecord}
}

// localShred is log encrypting what it writes when dir is encrypted
// (knhk run, signal and resume): put above the receipts, as knhk serve
// does.
func localShred(dir string, log engine.EventLog) engine.EventLog {
	if !audit.Enabled(dir) {
		return log
	}
	keys, err := keysOf(dir)
	if err != nil {
		return failingLog{log, err}
	}
	return audit.Shred(log, keys)
}

// failingLog refuses every append with err (the keys did not open).
type failingLog struct {
	engine.EventLog
	err error
}

func (l failingLog) Append(context.Context, string, *engine.Event) error { return l.err }

// setDefaultService lets the tenant front erase the default tenant's
// cases; nothing without --tenants.
func (t *tenantServe) setDefaultService(svc *server.Service) {
	if t != nil {
		t.host.SetDefaultService(svc)
	}
}

// eraseLocal erases case id of the data directory dir, which no server
// may hold: the Service is opened for the erasure (its index is
// rewritten without the case's result) and closed.
func eraseLocal(e *env, dir, id string) int {
	if _, err := os.Stat(dir); err != nil {
		fmt.Fprintf(e.stderr, "knhk case: no data directory %s\n", dir)
		return exitUser
	}
	if !audit.Enabled(dir) {
		fmt.Fprintf(e.stderr, "knhk case: cannot erase: case %s was written without encryption (%s is not encrypted; see knhk case encrypt)\n", id, dir)
		return exitUser
	}
	if _, err := os.Stat(filepath.Join(dir, "server")); err != nil {
		return eraseRunCase(e, dir, id) // a directory of knhk run only
	}
	svc, err := openLocalService(dir)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk case: %v\n", err)
		return exitUser
	}
	err = svc.EraseCase(context.Background(), id)
	if cerr := closeLocalService(svc); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk case: %v\n", err)
		return exitUser
	}
	fmt.Fprintf(e.stdout, "case %s erased (crypto-shredded): its key is destroyed\n", id)
	return exitOK
}

// eraseRunCase erases case id of a directory that only knhk run wrote
// (no server index keeps its result): destroying its key is all.
func eraseRunCase(e *env, dir, id string) int {
	keys, err := keysOf(dir)
	if err == nil && !keys.Written(id) {
		err = fmt.Errorf("cannot erase: case %s was written without encryption (or is not a case of %s)", id, dir)
	}
	if err == nil {
		err = keys.EraseCase(id)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk case: %v\n", err)
		return exitUser
	}
	fmt.Fprintf(e.stdout, "case %s erased (crypto-shredded): its key is destroyed\n", id)
	return exitOK
}

// runTenantErase erases tenant id of data locally (knhk tenant erase):
// every case's key goes with the tenant's. The server must be stopped;
// through a running one: knhk case erase --server URL --tenant ID --all.
func runTenantErase(e *env, data, id string) int {
	dir := tenant.DataDir(data, id)
	if id == auth.DefaultTenant {
		dir = data
	}
	if _, err := os.Stat(dir); err != nil {
		fmt.Fprintf(e.stderr, "knhk tenant: no data of tenant %s in %s\n", id, data)
		return exitUser
	}
	if !audit.Enabled(dir) {
		fmt.Fprintf(e.stderr, "knhk tenant: cannot erase: tenant %s's data was written without encryption (see knhk case encrypt --tenant)\n", id)
		return exitUser
	}
	svc, err := openLocalService(dir)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk tenant: %v\n", err)
		return exitUser
	}
	n, err := svc.EraseAll(context.Background())
	if cerr := closeLocalService(svc); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk tenant: %v\n", err)
		return exitUser
	}
	fmt.Fprintf(e.stdout, "tenant %s erased (crypto-shredded): %d cases, its key is destroyed\n", id, n)
	return exitOK
}

func openLocalService(dir string) (*server.Service, error) {
	svc, err := openEncrypted(dir, server.Options{IndexEvery: -1})
	if err != nil {
		if strings.Contains(err.Error(), "another knhk serve has") {
			return nil, fmt.Errorf("%v\n(a server holds %s: erase through it with knhk case erase --server URL)", err, dir)
		}
		return nil, err
	}
	return svc, nil
}

func closeLocalService(svc *server.Service) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return svc.Close(ctx)
}

// eraseRemote asks the server at srv for an erasure, with the CLI's
// bearer token (an admin's).
func eraseRemote(e *env, srv string, q url.Values) int {
	resp, b, code := callFront(e, "knhk case", "the answer", http.MethodPost, srv, tenant.ErasePath+"?"+q.Encode(), 1<<20) // audit.go
	if code != exitOK {
		return code
	}
	if resp.StatusCode == http.StatusNotFound && !json.Valid(b) {
		fmt.Fprintf(e.stderr, "knhk case: %s does not erase (only knhk serve --tenants does); erase locally with --data\n", srv)
		return exitUser
	}
	if resp.StatusCode != http.StatusOK {
		reportRefused(e, "knhk case", "erasure", resp, b)
		return exitUser
	}
	var ans tenant.EraseAnswer
	if err := json.Unmarshal(b, &ans); err != nil {
		fmt.Fprintf(e.stderr, "knhk case: the server's answer: %v\n", err)
		return exitUser
	}
	if ans.Case != "" {
		fmt.Fprintf(e.stdout, "case %s of tenant %s erased (crypto-shredded): its key is destroyed\n", ans.Case, ans.Tenant)
	} else {
		fmt.Fprintf(e.stdout, "tenant %s erased (crypto-shredded): %d cases, its key is destroyed\n", ans.Tenant, ans.Cases)
	}
	return exitOK
}

// localErased is the error of reading case id of dir locally once it was
// erased (knhk history, query, signal, resume), nil otherwise.
func localErased(dir, id string) error {
	if !audit.Enabled(dir) {
		return nil
	}
	keys, err := keysOf(dir)
	if err != nil {
		return err
	}
	return keys.Erased(id)
}

// encryptCreated turns encryption on for tenant id just created (knhk
// tenant create --encrypt) when code says the creation succeeded; the
// token stays alone on stdout.
func encryptCreated(e *env, data, id string, on bool, code int) int {
	if !on || code != exitOK {
		return code
	}
	dir := tenant.DataDir(data, id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(e.stderr, "knhk tenant: %v\n", err)
		return exitUser
	}
	if _, err := audit.Enable(dir); err != nil {
		fmt.Fprintf(e.stderr, "knhk tenant: tenant %s is created, but its encryption is not on: %v (knhk case encrypt --tenant %s turns it on)\n", id, err, id)
		return exitUser
	}
	fmt.Fprintf(e.stderr, "tenant %s's cases are encrypted (crypto-shredding on)\n", id)
	return exitOK
}
