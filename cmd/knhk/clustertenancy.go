// This file implements the mirroring of the tenants' registry on a raft
// cluster (knhk serve --node --tenants): tenants are administered with
// knhk tenant on the founding node's data directory (the node started
// without --join), and every other node copies DIR/tenants from the
// node it joined through, within a second of a change. Only what
// verifies and limits calls travels: the registry, the issuers' public
// keys, licences and their trust keys, revocation lists, the tenants'
// public keys and trust directories; never a private key (tokens are
// issued on the founding node), a tenant's single-server data
// directory, or a node's own replay state.
//
// The registry is not replicated through the raft log: it is written by
// an offline command (knhk tenant) into one directory, and a copy that
// lags a second behind the founding node's is harmless for what it
// decides (which tenants a node opens, and which credentials it
// accepts), while the tenants' cases are in their groups' logs.

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/knhk/knhk/server/auth"
	"github.com/knhk/knhk/server/tenant"
)

// tenancyPath serves a node's DIR/tenants to the nodes that mirror it,
// with the cluster's --token-file token.
const tenancyPath = "/cluster/v1/tenancy"

// maxTenancy bounds a tenancy's encoding (the registry, a few keys and
// licences per tenant).
const maxTenancy = 64 << 20

// tenancy is the mirrored files of DIR/tenants by slash path.
type tenancy struct {
	Files map[string][]byte `json:"files"`
}

// mirrored reports whether the file at slash path rel under DIR/tenants
// travels to the other nodes.
func mirrored(rel string) bool {
	if !fs.ValidPath(rel) || rel == "." {
		return false
	}
	parts := strings.Split(rel, "/")
	base := parts[len(parts)-1]
	switch {
	case strings.HasSuffix(base, ".key"), strings.HasSuffix(base, ".tmp"):
		return false // private keys stay on the founding node
	case len(parts) == 1:
		return base == "tenants.json" || base == "issuer.pub" || base == "issuer-pq.pub"
	case tenant.CheckID(parts[0]) != nil:
		return false
	case len(parts) == 2:
		return base == "revoked.json" || base == "revoked-certs.json" || base == "license.lic" || base == "sign.pub"
	default:
		return len(parts) == 3 && (parts[1] == "license-trust" || parts[1] == "trust")
	}
}

// readTenancy reads the mirrored files of data's DIR/tenants.
func readTenancy(data string) (*tenancy, error) {
	t := &tenancy{Files: map[string][]byte{}}
	root := tenant.Dir(data)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (strings.Count(rel, "/") >= 2 || strings.HasSuffix(rel, "/data")) {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !mirrored(rel) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		t.Files[rel] = b
		return nil
	})
	return t, err
}

// etag is the digest of t's files, for a mirror's If-None-Match.
func (t *tenancy) etag() string {
	h := sha256.New()
	names := make([]string, 0, len(t.Files))
	for n := range t.Files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(h, "%d:%s%d:", len(n), n, len(t.Files[n]))
		h.Write(t.Files[n])
	}
	return `"` + hex.EncodeToString(h.Sum(nil)) + `"`
}

// decodeTenancy decodes a peer's tenancy and refuses any file outside
// the mirrored set (a path that escapes DIR/tenants, a private key).
func decodeTenancy(b []byte) (*tenancy, error) {
	var t tenancy
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("tenancy: %v", err)
	}
	for n := range t.Files {
		if !mirrored(n) {
			return nil, fmt.Errorf("tenancy: file %q is not one a node mirrors", n)
		}
	}
	if t.Files == nil {
		t.Files = map[string][]byte{}
	}
	return &t, nil
}

// serveTenancy answers a mirroring node with data's tenancy.
func serveTenancy(w http.ResponseWriter, r *http.Request, data, token string) {
	if !bearerIs(r, token) {
		http.Error(w, "the tenancy needs the cluster's token", http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "GET only", http.StatusMethodNotAllowed)
		return
	}
	t, err := readTenancy(data)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	tag := t.etag()
	w.Header().Set("ETag", tag)
	if r.Header.Get("If-None-Match") == tag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(t)
}

// applyTenancy makes data's mirrored files t's: changed and new files
// first, the registry last (so that a server sees a tenant's licence
// before the registry that reopens it), then those t no longer has.
func applyTenancy(data string, t *tenancy) (changed bool, err error) {
	have, err := readTenancy(data)
	if err != nil {
		return false, err
	}
	root := tenant.Dir(data)
	names := make([]string, 0, len(t.Files))
	for n := range t.Files {
		if n != "tenants.json" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	if _, ok := t.Files["tenants.json"]; ok {
		names = append(names, "tenants.json")
	}
	for _, n := range names {
		b := t.Files[n]
		if old, ok := have.Files[n]; ok && bytes.Equal(old, b) {
			continue
		}
		p := filepath.Join(root, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return changed, err
		}
		if err := writeTenantFile(p, b, 0o600); err != nil {
			return changed, err
		}
		changed = true
	}
	for n := range have.Files {
		if _, ok := t.Files[n]; !ok {
			if err := os.Remove(filepath.Join(root, filepath.FromSlash(n))); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return changed, err
			}
			changed = true
		}
	}
	return changed, nil
}

// mirrorOnce copies the tenancy of the node at from into data unless
// it is still tag (its ETag when last copied); it returns the new tag
// and whether a file changed.
func mirrorOnce(ctx context.Context, c *http.Client, from, data, tag string) (string, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiURL(from)+tenancyPath, nil)
	if err != nil {
		return tag, false, err
	}
	if tag != "" {
		req.Header.Set("If-None-Match", tag)
	}
	resp, err := c.Do(req)
	if err != nil {
		return tag, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		return tag, false, nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxTenancy+1))
	if err != nil {
		return tag, false, err
	}
	if resp.StatusCode != http.StatusOK {
		return tag, false, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	if len(b) > maxTenancy {
		return tag, false, fmt.Errorf("a tenancy over %d bytes", maxTenancy)
	}
	t, err := decodeTenancy(b)
	if err != nil {
		return tag, false, err
	}
	changed, err := applyTenancy(data, t)
	if err != nil {
		return tag, changed, err
	}
	return resp.Header.Get("ETag"), changed, nil
}

// apiURL is a node's API address as a URL without a trailing slash
// (http:// when it names no scheme).
func apiURL(addr string) string {
	addr = strings.TrimSuffix(addr, "/")
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	return addr
}

// mirrorTenancy copies the tenancy of the node at from into data every
// interval until ctx ends, from tag on, calling changed after a copy
// that changed a file; it logs a failure once and the recovery.
func mirrorTenancy(ctx context.Context, c *http.Client, from, data, tag string, interval time.Duration, changed func(), logger *slog.Logger) {
	var failing string
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(max(interval, 100*time.Millisecond)):
		}
		var ch bool
		var err error
		tag, ch, err = mirrorOnce(ctx, c, from, data, tag)
		if ch {
			logger.Info(fmt.Sprintf("tenants: copied the registry of %s", from))
			changed()
		}
		switch {
		case err != nil && err.Error() != failing:
			failing = err.Error()
			logger.Warn(fmt.Sprintf("tenants: mirroring %s: %v (serving the last copy)", from, err))
		case err == nil && failing != "":
			failing = ""
			logger.Info(fmt.Sprintf("tenants: mirroring %s again", from))
		}
	}
}

// swapVerifier is the verifier of a mirroring node: rebuilt from the
// issuers' public keys whenever a copy changes them.
type swapVerifier struct {
	p atomic.Pointer[auth.Issuers]
}

func (s *swapVerifier) Verify(token string) (auth.Principal, error) { return s.p.Load().Verify(token) }
