// This file implements the registry of tenants (DIR/tenants/tenants.json)
// and the key their tokens are signed with.

package tenant

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"github.com/knhk/knhk/server/auth"
)

// State is a tenant's standing.
type State string

// The states of a tenant. A suspended tenant's calls are refused and its
// data kept; a deleted tenant's data is removed and its id never reused.
const (
	Active    State = "active"
	Suspended State = "suspended"
	Deleted   State = "deleted"
)

// Quota limits one tenant; a zero field is unlimited.
type Quota struct {
	// Rate is the API calls per second the tenant may make on average,
	// Burst how many it may make at once above that.
	Rate  float64 `json:"rate,omitempty"`
	Burst int     `json:"burst,omitempty"`
	// MaxRunning caps the tenant's cases running at once: further starts
	// are refused (ResourceExhausted) until some end.
	MaxRunning int `json:"max_running,omitempty"`
	// InFlight bounds the tenant's service calls the server works on at
	// once (long polls apart); further calls wait their turn (fair.go).
	// 0: unbounded.
	InFlight int `json:"in_flight,omitempty"`
}

// Tenant is one registry entry.
type Tenant struct {
	ID      string    `json:"id"`
	State   State     `json:"state"`
	Created time.Time `json:"created"`
	Quota   Quota     `json:"quota,omitzero"`
	// Policy is the weakest signature class the tenant's trust directory
	// accepts and its signing key signs with (default classical); see
	// keys.go.
	Policy string `json:"policy,omitempty"`
	// Revision counts changes of the tenant's keys and licence: a
	// running server reopens the tenant when it moves.
	Revision int `json:"revision,omitempty"`
	// Encrypt, on a raft cluster (knhk serve --node --tenants), seals
	// every node's copy of the tenant's raft log and snapshots with a
	// key of the node's own, so that the tenant can be erased
	// (crypto-shredded). Erased is when it was: the tenant is then
	// deleted, and every node destroyed its key.
	Encrypt bool      `json:"encrypt,omitempty"`
	Erased  time.Time `json:"erased,omitzero"`
}

// Registry is the data directory's tenants.
type Registry struct {
	Version int       `json:"version"`
	Tenants []*Tenant `json:"tenants"`
}

// Issuer is the iss claim of the tokens knhk tenant create signs.
const Issuer = "knhk"

var idRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// CheckID reports whether id may name a tenant: lowercase letters,
// digits and dashes, starting with a letter, at most 63 characters (it
// names a directory, so no dots or slashes), and not "default".
func CheckID(id string) error {
	if !idRE.MatchString(id) {
		return fmt.Errorf("bad tenant id %q: want a lowercase letter then up to 62 lowercase letters, digits or dashes", id)
	}
	if id == auth.DefaultTenant {
		return fmt.Errorf("tenant id %q is the data directory's own tenant", id)
	}
	return nil
}

// Dir returns the directory of the tenants of data directory data.
func Dir(data string) string { return filepath.Join(data, "tenants") }

// DataDir returns the data directory of tenant id.
func DataDir(data, id string) string {
	if id == auth.DefaultTenant {
		return data
	}
	return filepath.Join(Dir(data), id, "data")
}

func registryPath(data string) string { return filepath.Join(Dir(data), "tenants.json") }

// Load reads the registry of data directory data; a directory without
// one has no tenants but the default.
func Load(data string) (*Registry, error) {
	b, err := os.ReadFile(registryPath(data))
	if errors.Is(err, os.ErrNotExist) {
		return &Registry{Version: 1}, nil
	}
	if err != nil {
		return nil, err
	}
	r, err := ParseRegistry(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", registryPath(data), err)
	}
	return r, nil
}

// ParseRegistry decodes and checks a registry's encoding (the file, or
// a cluster's replicated copy of it); nil or empty is a registry
// without tenants.
func ParseRegistry(b []byte) (*Registry, error) {
	if len(b) == 0 {
		return &Registry{Version: 1}, nil
	}
	var r Registry
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	if r.Version != 1 {
		return nil, fmt.Errorf("version %d, want 1", r.Version)
	}
	seen := map[string]bool{}
	for i, t := range r.Tenants {
		if t == nil || CheckID(t.ID) != nil {
			return nil, fmt.Errorf("tenant %d has a bad id", i)
		}
		if seen[t.ID] {
			return nil, fmt.Errorf("tenant %s is listed twice", t.ID)
		}
		seen[t.ID] = true
		switch t.State {
		case Active, Suspended, Deleted:
		default:
			return nil, fmt.Errorf("tenant %s has unknown state %q", t.ID, t.State)
		}
	}
	return &r, nil
}

// Encode returns r's encoding, its tenants sorted by id: what Save
// writes, and what a cluster replicates.
func (r *Registry) Encode() ([]byte, error) {
	sort.Slice(r.Tenants, func(i, j int) bool { return r.Tenants[i].ID < r.Tenants[j].ID })
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Save writes r to data directory data atomically.
func (r *Registry) Save(data string) error {
	b, err := r.Encode()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(Dir(data), 0o700); err != nil {
		return err
	}
	tmp := registryPath(data) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, registryPath(data))
}

// SetState moves tenant id to state s; a deleted tenant stays deleted.
func (r *Registry) SetState(id string, s State) (*Tenant, error) {
	t := r.Get(id)
	if t == nil {
		return nil, fmt.Errorf("no tenant %s", id)
	}
	if t.State == Deleted {
		return nil, fmt.Errorf("tenant %s is deleted", id)
	}
	t.State = s
	return t, nil
}

// replicatedMark, in DIR/tenants, says that the registry is a cluster
// node's copy of its cluster's replicated tenancy (knhk serve --node
// --tenants): the node rewrites it from the cluster's log, so it is
// changed through the cluster (knhk tenant --server), not in place.
const replicatedMark = ".replicated"

// MarkReplicated records that data's registry is a cluster's copy.
func MarkReplicated(data string) error {
	return os.WriteFile(filepath.Join(Dir(data), replicatedMark), []byte("written from the cluster's replicated tenancy; change it with knhk tenant --server\n"), 0o600)
}

// Replicated reports whether data's registry is a cluster's copy
// ([MarkReplicated]).
func Replicated(data string) bool {
	_, err := os.Stat(filepath.Join(Dir(data), replicatedMark))
	return err == nil
}

// Get returns tenant id, or nil.
func (r *Registry) Get(id string) *Tenant {
	for _, t := range r.Tenants {
		if t.ID == id {
			return t
		}
	}
	return nil
}

// Create adds tenant id, active, with quota q.
func (r *Registry) Create(id string, q Quota, now time.Time) (*Tenant, error) {
	if err := CheckID(id); err != nil {
		return nil, err
	}
	if t := r.Get(id); t != nil {
		if t.State == Deleted {
			return nil, fmt.Errorf("tenant %s was deleted; a deleted tenant's id is not reused", id)
		}
		return nil, fmt.Errorf("tenant %s exists", id)
	}
	t := &Tenant{ID: id, State: Active, Created: now.UTC().Truncate(time.Second), Quota: q}
	r.Tenants = append(r.Tenants, t)
	return t, nil
}

func keyPath(data string) string { return filepath.Join(Dir(data), "issuer.key") }

// PubPath returns the path of the public key knhk serve --tenants trusts
// for the tokens knhk tenant create signs.
func PubPath(data string) string { return filepath.Join(Dir(data), "issuer.pub") }

// IssuerKey returns the data directory's token-signing key, making it
// (0600, beside its public key) on first use.
func IssuerKey(data string) (ed25519.PrivateKey, error) {
	return IssuerKeyAt(keyPath(data), PubPath(data))
}

// IssuerKeyAt returns the token-signing key at keyFile, making it (0600)
// and its public key at pubFile on first use: a cluster node's own
// issuer key, whose public key alone the cluster replicates.
func IssuerKeyAt(keyFile, pubFile string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(keyFile)
	if err == nil {
		blk, _ := pem.Decode(b)
		if blk == nil || blk.Type != "PRIVATE KEY" {
			return nil, fmt.Errorf("%s: not a PEM PRIVATE KEY", keyFile)
		}
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", keyFile, err)
		}
		priv, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%s: a %T, want Ed25519", keyFile, k)
		}
		return priv, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	if err := os.MkdirAll(filepath.Dir(keyFile), 0o700); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(pubFile), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(pubFile, PublicPEM(pub), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	return priv, nil
}

// PublicPEM is pub as a PEM PUBLIC KEY block.
func PublicPEM(pub ed25519.PublicKey) []byte {
	pder, _ := x509.MarshalPKIXPublicKey(pub)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pder})
}
