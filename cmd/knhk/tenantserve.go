// This file implements knhk serve --tenants: the tenants of the data
// directory (server/tenant) behind bearer JWTs (server/auth).

package main

import (
	"context"
	cryptotls "crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/auth"
	"github.com/knhk/knhk/server/metrics"
	"github.com/knhk/knhk/server/tenant"
)

// tenantFlags are serve's flags of tenancy.
type tenantFlags struct {
	clientCAFile           string
	on                     bool
	keys, issuer, audience string
	// signers is --auth-trust: composite public keys whose knhk tokens
	// are accepted beside those of the data directory's own key.
	signers string
	// requireNonce refuses calls that change data without a request
	// nonce (server/tenant's replay guard).
	requireNonce bool
}

func (f *tenantFlags) define(fs *flag.FlagSet) {
	fs.BoolVar(&f.on, "tenants", false, "serve the tenants of knhk tenant, each call as the tenant and role of its bearer JWT")
	fs.StringVar(&f.keys, "auth-keys", "", "with --tenants, also accept JWTs of --auth-issuer signed by a key in `FILE` (PEM public keys)")
	fs.StringVar(&f.issuer, "auth-issuer", "", "the iss `CLAIM` of the JWTs of --auth-keys")
	fs.StringVar(&f.audience, "auth-audience", "", "the aud `CLAIM` the JWTs of --auth-keys must carry")
	fs.StringVar(&f.signers, "auth-trust", "", "with --tenants, also accept knhk tokens signed by the composite public key `KEY` (a .pub file or a directory of them)")
	fs.BoolVar(&f.requireNonce, "require-nonce", false, "with --tenants, refuse calls that change data unless they carry a request nonce (Knhk-Nonce, Knhk-Request-Time), so that a captured request cannot be replayed")
	fs.StringVar(&f.clientCAFile, "tls-client-ca", "", "with --tenants and --tls-cert, accept client certificates of the CAs in `FILE` (subject O: tenant, OU: role)")
}

// clientCA makes srv ask for client certificates and verify them against
// --tls-client-ca; a call without one still may carry a token.
func (f *tenantFlags) clientCA(srv *http.Server, tls bool) error {
	if f.clientCAFile == "" {
		return nil
	}
	if !f.on || !tls {
		return fmt.Errorf("--tls-client-ca needs --tenants and --tls-cert")
	}
	b, err := os.ReadFile(f.clientCAFile)
	if err != nil {
		return fmt.Errorf("--tls-client-ca: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return fmt.Errorf("--tls-client-ca: %s holds no PEM certificate", f.clientCAFile)
	}
	srv.TLSConfig = &cryptotls.Config{ClientCAs: pool, ClientAuth: cryptotls.VerifyClientCertIfGiven}
	return nil
}

// tenantServe is a serving --tenants; nil without it.
type tenantServe struct {
	host *tenant.Host
}

// openTenants starts the tenant front of data: the issuer key of knhk
// tenant (made when missing, so tokens issued later verify) and any
// --auth-keys. Without --tenants it returns nil and no error.
func openTenants(f *tenantFlags, data, token string, maxBody int64, lines io.Writer, lease time.Duration, park bool, logger *slog.Logger) (*tenantServe, error) {
	if !f.on {
		if f.keys != "" || f.issuer != "" || f.audience != "" || f.signers != "" || f.requireNonce {
			return nil, fmt.Errorf("--auth-keys, --auth-issuer, --auth-audience, --auth-trust and --require-nonce need --tenants")
		}
		return nil, nil
	}
	is, err := tenantIssuers(f, data, token)
	if err != nil {
		return nil, err
	}
	// Each tenant has its own metrics, at its own /metrics, and its own
	// keys and licence (tenantkeys.go).
	var mu sync.Mutex
	ms := map[string]*metrics.Metrics{}
	secs := map[string]*tenantSecurity{}
	h, err := tenant.NewHost(tenant.Options{
		Data:         data,
		Verifier:     is,
		MaxBody:      maxBody,
		RequireNonce: f.requireNonce,
		Open: func(id, dir string, admit func(string) (func(), error)) (*server.Service, error) {
			sec, err := openTenantSecurity(data, id, dir, logger)
			if err != nil {
				return nil, err
			}
			m := metrics.New(metrics.Options{})
			svc, err := openEncrypted(dir, sec.options(server.Options{Log: lines, Lease: lease, NoPark: !park, Observer: m, Mining: dataMiner{dir}}, admit))
			if err != nil {
				sec.close()
				return nil, err
			}
			sec.lic.opened(svc, m.Registry())
			mu.Lock()
			ms[id], secs[id] = m, sec
			mu.Unlock()
			return svc, nil
		},
		Mount: func(id string, svc *server.Service, mux *server.Mux) {
			mu.Lock()
			m := ms[id]
			mu.Unlock()
			m.WatchCases(svc)
			m.WatchQueues(svc)
			mux.Handle("GET /metrics", m.Handler())
		},
		Closed: func(id string) {
			mu.Lock()
			sec := secs[id]
			delete(secs, id)
			delete(ms, id)
			mu.Unlock()
			if sec != nil {
				sec.close()
			}
		},
		Logf: func(format string, args ...any) { logger.Info(fmt.Sprintf(format, args...)) },
	})
	if err != nil {
		return nil, err
	}
	return &tenantServe{host: h}, nil
}

// tenantIssuers returns the verifier of the tenants' tokens: those of
// the data directory's issuer keys (made when missing, so tokens issued
// later verify), of --auth-trust and of --auth-keys, and token, the
// --token-file token of the default tenant's admin.
func tenantIssuers(f *tenantFlags, data, token string) (*auth.Issuers, error) {
	if _, err := tenant.IssuerKey(data); err != nil {
		return nil, fmt.Errorf("the tenants' issuer key: %w", err)
	}
	if _, err := tenant.SignerKey(data); err != nil {
		return nil, fmt.Errorf("the tenants' composite issuer key: %w", err)
	}
	return publicIssuers(f, data, token)
}

// publicIssuers is tenantIssuers from the issuers' public keys alone,
// making none: a cluster node that mirrors another's registry
// (clustertenancy.go) verifies the tokens of the other's keys, and has
// none until its first copy.
func publicIssuers(f *tenantFlags, data, token string) (*auth.Issuers, error) {
	v := &auth.Verifier{Issuer: tenant.Issuer}
	if b, err := os.ReadFile(tenant.PubPath(data)); err == nil {
		if v.Keys, err = auth.ParseKeys(tenant.PubPath(data), b); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	signers, err := tokenSigners(data, f.signers)
	if err != nil {
		return nil, err
	}
	v.Signers = signers
	is := &auth.Issuers{Static: token, ByIssuer: map[string]*auth.Verifier{tenant.Issuer: v}}
	if f.keys != "" {
		if f.issuer == "" || f.issuer == tenant.Issuer {
			return nil, fmt.Errorf("--auth-keys needs --auth-issuer, the iss claim of its tokens (not %q)", tenant.Issuer)
		}
		b, err := os.ReadFile(f.keys)
		if err != nil {
			return nil, fmt.Errorf("--auth-keys: %v", unwrapPathError(err))
		}
		keys, err := auth.ParseKeys(f.keys, b)
		if err != nil {
			return nil, err
		}
		is.ByIssuer[f.issuer] = &auth.Verifier{Keys: keys, Issuer: f.issuer, Audience: f.audience}
	}
	return is, nil
}

// tokenSigners returns the composite keys knhk tokens may be signed
// with: the data directory's own public key, when it has one, and those
// of --auth-trust.
func tokenSigners(data, extra string) (*sign.TrustSet, error) {
	var keys []*sign.PublicKey
	if b, err := os.ReadFile(tenant.SignerPubPath(data)); err == nil {
		k, err := sign.ParsePublicKey(b)
		if err != nil {
			return nil, fmt.Errorf("the tenants' composite issuer key %s: %w", tenant.SignerPubPath(data), err)
		}
		keys = append(keys, k)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if extra != "" {
		ts, err := readPublicKeys(extra, "--auth-trust")
		if err != nil {
			return nil, err
		}
		for _, id := range ts.IDs() {
			pk := ts.Key(id)
			if pk.Algorithm() != auth.TokenAlg {
				return nil, fmt.Errorf("--auth-trust: key %s is an %s key; knhk tokens are signed with %s keys", id, pk.Algorithm(), auth.TokenAlg)
			}
			keys = append(keys, pk)
		}
	}
	return sign.NewTrustSet(keys...), nil
}

// muxOptions returns the default tenant's mux options: with --tenants the
// front authenticates and the mux checks the caller's tenant and role.
func (t *tenantServe) muxOptions(o server.MuxOptions) server.MuxOptions {
	if t == nil {
		return o
	}
	return server.MuxOptions{MaxBody: o.MaxBody, Authorize: t.host.Authorizer(auth.DefaultTenant)}
}

// front returns the server's handler: the tenant front over the default
// tenant's mux, or the mux itself.
func (t *tenantServe) front(mux *server.Mux) http.Handler {
	if t == nil {
		return mux
	}
	t.host.SetDefault(mux)
	return t.host
}

// close drains and closes the tenants' Services.
func (t *tenantServe) close(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.host.Close(ctx)
}
