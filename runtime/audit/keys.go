// This file implements the data keys of crypto-shredding: one AES-256 key
// per case, sealed (runtime/seal: X-Wing and AES-256-GCM) for the data
// directory's own sealing key, which is the tenant's key (each tenant has
// its own data directory). Destroying a case's sealed key makes that
// case's encrypted data unreadable; destroying the tenant's key makes
// every case's unreadable at once. Hash chains, receipts and Merkle
// proofs cover the ciphertext, so they still verify.

package audit

import (
	"bufio"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/knhk/knhk/internal/atomicfile"
	"github.com/knhk/knhk/runtime/seal"
)

// Paths under DIR/audit/keys.
const (
	KeysDir       = "keys"
	TenantKeyFile = "tenant.key" // the tenant's sealing key (private, 0600)
	CaseKeysDir   = "cases"      // one sealed data key per case
	ErasedFile    = "erased"     // one JSON line per erasure
)

// ErasedError is the error of reading data whose key was destroyed.
type ErasedError struct {
	Case string // the case, "" when the whole tenant was erased
	When string // RFC 3339
}

func (e *ErasedError) Error() string {
	if e.Case == "" {
		return fmt.Sprintf("this tenant's data was erased (crypto-shredded) at %s: its key is destroyed and its data cannot be read", e.When)
	}
	return fmt.Sprintf("case %s was erased (crypto-shredded) at %s: its key is destroyed and its data cannot be read", e.Case, e.When)
}

// ErrErased matches every *ErasedError with errors.Is.
var ErrErased = errors.New("erased")

func (e *ErasedError) Is(target error) bool { return target == ErrErased }

// Keys holds the data keys of one data directory (one tenant).
type Keys struct {
	dir string

	mu     sync.Mutex
	tenant *seal.PrivateKey
	cache  map[string][]byte
	aeads  map[string]cipher.AEAD // the cached keys' ciphers (caseAEAD)
	erased map[string]string      // case hash ("" for the tenant) -> when
}

type erasure struct {
	Case string `json:"case"` // SHA-256 of the case id in hex; "" for the tenant
	Time string `json:"time"`
}

// OpenKeys opens the data keys of data, making the tenant's sealing key
// on first use (unless the tenant was erased).
func OpenKeys(data string) (*Keys, error) {
	dir := filepath.Join(data, Dir, KeysDir)
	if err := os.MkdirAll(filepath.Join(dir, CaseKeysDir), 0o700); err != nil {
		return nil, err
	}
	k := &Keys{dir: dir, cache: map[string][]byte{}, aeads: map[string]cipher.AEAD{}, erased: map[string]string{}}
	if err := k.loadErased(); err != nil {
		return nil, err
	}
	if _, gone := k.erased[""]; gone {
		return k, nil
	}
	path := filepath.Join(dir, TenantKeyFile)
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		sk, err := seal.GenerateKey()
		if err != nil {
			return nil, err
		}
		if err := atomicfile.Write(path, sk.MarshalPEM(), 0o600); err != nil {
			return nil, err
		}
		k.tenant = sk
	case err != nil:
		return nil, err
	default:
		if k.tenant, err = seal.ParsePrivateKey(b); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return k, nil
}

func (k *Keys) loadErased() error {
	f, err := os.Open(filepath.Join(k.dir, ErasedFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e erasure
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			k.erased[e.Case] = e.Time
		}
	}
	return sc.Err()
}

func caseHash(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// erasedErr returns the error of reading case id, nil when its key is
// there to be read.
func (k *Keys) erasedErr(id string) error {
	if len(k.erased) == 0 {
		return nil // most reads: no hash to compute
	}
	if when, ok := k.erased[""]; ok {
		return &ErasedError{When: when}
	}
	if when, ok := k.erased[caseHash(id)]; ok {
		return &ErasedError{Case: id, When: when}
	}
	return nil
}

// CaseKey returns case id's data key, making and sealing one when it has
// none and create is set. A case (or tenant) erased is an *ErasedError.
func (k *Keys) CaseKey(id string, create bool) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.erasedErr(id); err != nil {
		return nil, err
	}
	if key, ok := k.cache[id]; ok {
		return key, nil
	}
	path := filepath.Join(k.dir, CaseKeysDir, caseHash(id)+".sealed")
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && create:
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		s, err := k.tenant.Public().Seal(key)
		if err != nil {
			return nil, err
		}
		if err := atomicfile.Write(path, []byte(s+"\n"), 0o600); err != nil {
			return nil, err
		}
		k.cache[id] = key
		return key, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("case %s has no data key in %s", id, k.dir)
	case err != nil:
		return nil, err
	}
	key, err := k.tenant.Open(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("case %s's data key: %w", id, err)
	}
	k.cache[id] = key
	return key, nil
}

// EraseCase destroys case id's data key: its encrypted data can never be
// read again. Erasing a case twice is not an error.
func (k *Keys) EraseCase(id string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.cache, id)
	delete(k.aeads, id)
	if err := k.recordErasure(caseHash(id)); err != nil {
		return err
	}
	return destroy(filepath.Join(k.dir, CaseKeysDir, caseHash(id)+".sealed"))
}

// EraseTenant destroys the tenant's sealing key, and with it every case's
// data key (sealed for it), and then the sealed keys themselves.
func (k *Keys) EraseTenant() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.cache = map[string][]byte{}
	k.aeads = map[string]cipher.AEAD{}
	k.tenant = nil
	if err := k.recordErasure(""); err != nil {
		return err
	}
	if err := destroy(filepath.Join(k.dir, TenantKeyFile)); err != nil {
		return err
	}
	ents, _ := os.ReadDir(filepath.Join(k.dir, CaseKeysDir))
	for _, e := range ents {
		if err := destroy(filepath.Join(k.dir, CaseKeysDir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// recordErasure appends the erasure (durably) before any key is
// destroyed, so that a read after it says "erased", never "no key".
func (k *Keys) recordErasure(hash string) error {
	if _, ok := k.erased[hash]; ok {
		return nil
	}
	when := time.Now().UTC().Format(time.RFC3339)
	line, _ := json.Marshal(erasure{Case: hash, Time: when})
	if err := appendSync(filepath.Join(k.dir, ErasedFile), append(line, '\n')); err != nil {
		return err
	}
	k.erased[hash] = when
	return nil
}

// destroy overwrites a key file with zeros, syncs it and removes it. (On
// a copy-on-write or journaling file system the old blocks may survive
// the overwrite; the tenant key's destruction covers the case keys.)
func destroy(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err == nil {
		_, err = f.WriteAt(make([]byte, fi.Size()), 0)
	}
	if err == nil {
		err = f.Sync()
	}
	f.Close()
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil {
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}
