// This file implements a tenant's token revocation list,
// DIR/tenants/ID/revoked.json (DIR/tenants/default/revoked.json for the
// data directory's own tenant): knhk tenant revoke writes it, and a
// running server rereads it within a second and refuses the tokens it
// names, whether or not it verified them before.

package tenant

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/knhk/knhk/server/auth"
)

// Revocations is a tenant's revocation list.
type Revocations struct {
	Version int `json:"version"`
	// Tokens are the revoked token ids (jti claims).
	Tokens []RevokedToken `json:"tokens,omitempty"`
	// Subjects are the revoked subjects: each refuses the subject's
	// tokens issued at or before its Before (to the second, as iat is),
	// so a token issued later for it is good again.
	Subjects []RevokedSubject `json:"subjects,omitempty"`
	// Certificates are the revoked client certificates (revokecert.go).
	Certificates []RevokedCert `json:"certificates,omitempty"`
}

// RevokedToken is one revoked token id.
type RevokedToken struct {
	ID      string    `json:"jti"`
	Revoked time.Time `json:"revoked"`
}

// RevokedSubject is one revoked subject.
type RevokedSubject struct {
	Subject string    `json:"subject"`
	Before  time.Time `json:"before"`
}

// ErrRevoked is wrapped by every refusal of a revoked token.
var ErrRevoked = errors.New("token revoked")

// RevocationsPath is the revocation list of tenant id.
func RevocationsPath(data, id string) string {
	return filepath.Join(Dir(data), id, "revoked.json")
}

// LoadRevocations reads tenant id's revocation list; none is empty.
func LoadRevocations(data, id string) (*Revocations, error) {
	path := RevocationsPath(data, id)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &Revocations{Version: 1}, nil
	}
	if err != nil {
		return nil, err
	}
	return parseRevocations(path, b)
}

func parseRevocations(path string, b []byte) (*Revocations, error) {
	var r Revocations
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: offset %d: %w", path, d.InputOffset(), err)
	}
	if d.More() {
		return nil, fmt.Errorf("%s: offset %d: data after the list", path, d.InputOffset())
	}
	if r.Version != 1 {
		return nil, fmt.Errorf("%s: version %d, want 1", path, r.Version)
	}
	for i, t := range r.Tokens {
		if t.ID == "" {
			return nil, fmt.Errorf("%s: token %d has no jti", path, i)
		}
	}
	for i, s := range r.Subjects {
		if s.Subject == "" {
			return nil, fmt.Errorf("%s: subject %d is empty", path, i)
		}
	}
	if err := r.validCerts(path); err != nil {
		return nil, err
	}
	return &r, nil
}

// RevokeToken adds token id jti (idempotent).
func (r *Revocations) RevokeToken(jti string, now time.Time) error {
	if jti == "" {
		return errors.New("an empty token id")
	}
	for _, t := range r.Tokens {
		if t.ID == jti {
			return nil
		}
	}
	r.Tokens = append(r.Tokens, RevokedToken{ID: jti, Revoked: now.UTC()})
	return nil
}

// RevokeSubject refuses subject's tokens issued up to now.
func (r *Revocations) RevokeSubject(subject string, now time.Time) error {
	if subject == "" {
		return errors.New("an empty subject")
	}
	now = now.UTC().Truncate(time.Second)
	for i, s := range r.Subjects {
		if s.Subject == subject {
			if now.After(s.Before) {
				r.Subjects[i].Before = now
			}
			return nil
		}
	}
	r.Subjects = append(r.Subjects, RevokedSubject{Subject: subject, Before: now})
	return nil
}

// Save writes tenant id's list atomically (a server never reads half).
func (r *Revocations) Save(data, id string) error {
	sort.Slice(r.Tokens, func(i, j int) bool { return r.Tokens[i].ID < r.Tokens[j].ID })
	sort.Slice(r.Subjects, func(i, j int) bool { return r.Subjects[i].Subject < r.Subjects[j].Subject })
	sort.Slice(r.Certificates, func(i, j int) bool { return r.Certificates[i].Serial < r.Certificates[j].Serial })
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	path := RevocationsPath(data, id)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Check refuses p when r revokes it.
func (r *Revocations) Check(p auth.Principal) error {
	if r == nil {
		return nil
	}
	if p.ID != "" {
		for _, t := range r.Tokens {
			if t.ID == p.ID {
				return fmt.Errorf("%w: token %s of tenant %s was revoked at %s", ErrRevoked, p.ID, p.Tenant, t.Revoked.Format(time.RFC3339))
			}
		}
	}
	for _, s := range r.Subjects {
		if s.Subject == p.Subject && !p.Issued.After(s.Before) {
			return fmt.Errorf("%w: the tokens of subject %s of tenant %s issued up to %s were revoked", ErrRevoked, p.Subject, p.Tenant, s.Before.Format(time.RFC3339))
		}
	}
	return nil
}

// revocations is the server's copy of every tenant's list, each reread
// when its file's modification time or size moves.
type revocations struct {
	data string
	mu   sync.Mutex
	m    map[string]*revEntry
}

type revEntry struct {
	mod  time.Time
	size int64
	r    *Revocations
}

// reload rereads the lists of ids that changed; a list that does not
// parse is reported and the one read before it kept.
func (v *revocations) reload(ids []string, logf func(string, ...any)) {
	for _, id := range ids {
		fi, err := os.Stat(RevocationsPath(v.data, id))
		v.mu.Lock()
		e := v.m[id]
		v.mu.Unlock()
		if err != nil {
			if e != nil && errors.Is(err, os.ErrNotExist) {
				v.mu.Lock()
				delete(v.m, id)
				v.mu.Unlock()
			}
			continue
		}
		if e != nil && fi.ModTime().Equal(e.mod) && fi.Size() == e.size {
			continue
		}
		r, err := LoadRevocations(v.data, id)
		if err != nil {
			logf("tenant %s: revocation list not applied: %v", id, err)
			continue
		}
		v.mu.Lock()
		if v.m == nil {
			v.m = map[string]*revEntry{}
		}
		v.m[id] = &revEntry{mod: fi.ModTime(), size: fi.Size(), r: r}
		v.mu.Unlock()
	}
}

// list is tenant's list as last read; nil (which revokes nothing) when
// it has none.
func (v *revocations) list(tenant string) *Revocations {
	if v == nil {
		return nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if e := v.m[tenant]; e != nil {
		return e.r
	}
	return nil
}

// check refuses p when its tenant's list revokes it.
func (v *revocations) check(p auth.Principal) error {
	return v.list(p.Tenant).Check(p)
}

// reloadRevocations rereads the revocation lists of the default tenant
// and of every tenant not deleted.
func (h *Host) reloadRevocations() {
	ids := []string{auth.DefaultTenant}
	h.mu.Lock()
	if h.reg != nil {
		for _, t := range h.reg.Tenants {
			if t.State != Deleted {
				ids = append(ids, t.ID)
			}
		}
	}
	h.mu.Unlock()
	h.revoked.reload(ids, h.opts.Logf)
}
