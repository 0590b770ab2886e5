// This file turns crypto-shredding on for a data directory and gives the
// store's read path (store.Options.OpenPayload) what it needs, so that
// every reader of an encrypted log sees live cases in clear and erased
// ones redacted: Shred encrypts above the receipts when events are
// written, OpenRecord decrypts below every reader when they are read.

package audit

import (
	"bytes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/knhk/knhk/internal/atomicfile"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

// EncryptFile, in DIR/audit/keys, marks a data directory whose new cases
// are encrypted (knhk case encrypt, knhk tenant create --encrypt).
const EncryptFile = "encrypt"

// ErasedValue replaces the payload of an erased case's events where a
// reader of the whole log (the server's recovery, mining) must go on.
const ErasedValue = "knhk:erased"

// Enable turns encryption on for the new cases of data (idempotent) and
// returns its keys. A tenant whose data was erased cannot be enabled
// again: its key is gone.
func Enable(data string) (*Keys, error) {
	k, err := OpenKeys(data)
	if err != nil {
		return nil, err
	}
	if err := k.Erased(""); err != nil {
		return nil, err
	}
	path := filepath.Join(data, Dir, KeysDir, EncryptFile)
	if Enabled(data) {
		return k, nil
	}
	if err := atomicfile.Write(path, []byte("knhk: new cases of this data directory are encrypted (crypto-shredding, docs/audit.md)\n"), 0o600); err != nil {
		return nil, err
	}
	return k, nil
}

// Enabled reports whether data's new cases are encrypted.
func Enabled(data string) bool {
	_, err := os.Stat(filepath.Join(data, Dir, KeysDir, EncryptFile))
	return err == nil
}

// Erased returns the *ErasedError of reading case id ("" for the
// tenant), nil when it was not erased.
func (k *Keys) Erased(id string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if id == "" {
		if when, ok := k.erased[""]; ok {
			return &ErasedError{When: when}
		}
		return nil
	}
	return k.erasedErr(id)
}

// Written reports whether case id was written encrypted: it has a data
// key, or had one that was erased. A case started before encryption was
// turned on has none, and erasing it would erase nothing.
func (k *Keys) Written(id string) bool {
	if k.Erased(id) != nil {
		return true
	}
	k.mu.Lock()
	_, cached := k.cache[id]
	k.mu.Unlock()
	if cached {
		return true
	}
	_, err := os.Stat(filepath.Join(k.dir, CaseKeysDir, caseHash(id)+".sealed"))
	return !errors.Is(err, fs.ErrNotExist)
}

// OpenRecord is store.Options.OpenPayload for a log written through
// Shred: an event's encrypted payload and an encrypted snapshot come out
// decrypted; an erased case's events come out with ErasedValue as their
// only value (kind, transition and times stay: they were never
// encrypted) and its snapshots as they are stored, so that a scan of the
// whole log goes on. Records in clear are returned as they are. A
// payload that does not open (changed, or another case's) is an error.
func (k *Keys) OpenRecord(caseID, kind, payload []byte) ([]byte, error) {
	if !bytes.Contains(payload, []byte(ShredPrefix)) {
		return payload, nil
	}
	id := string(caseID)
	if string(kind) == engine.SnapshotKind {
		ct, ok := bytes.CutPrefix(payload, []byte(ShredPrefix))
		if !ok {
			return payload, nil
		}
		key, err := k.CaseKey(id, false)
		if errors.Is(err, ErrErased) {
			return payload, nil
		}
		if err != nil {
			return nil, err
		}
		return decrypt(key, id, ct)
	}
	if out, ok := k.openSpliced(id, payload); ok {
		return out, nil
	}
	ev, err := engine.DecodeEvent(payload)
	if err != nil {
		return nil, fmt.Errorf("case %s: an event of the encrypted log: %w", id, err)
	}
	open, err := k.OpenEvent(id, ev)
	if errors.Is(err, ErrErased) {
		red := *ev
		red.Values = []eval.Value{eval.Str(ErasedValue)}
		return engine.EncodeEvent(&red)
	}
	if err != nil {
		return nil, err
	}
	if open == ev {
		return payload, nil
	}
	return engine.EncodeEvent(open)
}

// SealRecord is store.Options.SealPayload for a log written through
// Shred: events come sealed already; a snapshot saved beside the engine
// (a parked or drained case's) is encrypted here like Shred's.
func (k *Keys) SealRecord(caseID, kind string, payload []byte) ([]byte, error) {
	if kind != engine.SnapshotKind || bytes.HasPrefix(payload, []byte(ShredPrefix)) {
		return payload, nil
	}
	key, err := k.CaseKey(caseID, true)
	if err != nil {
		return nil, err
	}
	ct, err := encrypt(key, caseID, payload)
	if err != nil {
		return nil, err
	}
	return append([]byte(ShredPrefix), ct...), nil
}

// indexKeyCase names the data key of the server's index, kept with the
// cases' keys (sealed for the tenant's key, so a tenant's erasure
// destroys it) and erased with the tenant only: a case's erasure
// redacts its line of the index instead.
const indexKeyCase = "knhk:index"

// SealText encrypts s, a field of case caseID's line in the server's
// index (its result, its error), under the index's key; "" and a case
// written in clear (no key of its own) are returned as they are.
func (k *Keys) SealText(caseID, s string) (string, error) {
	if s == "" || !k.Written(caseID) || k.Erased(caseID) != nil {
		return s, nil
	}
	key, err := k.CaseKey(indexKeyCase, true)
	if err != nil {
		return "", err
	}
	ct, err := encrypt(key, caseID, []byte(s))
	if err != nil {
		return "", err
	}
	return ShredPrefix + base64.RawURLEncoding.EncodeToString(ct), nil
}

// OpenText is SealText's inverse; text in clear is returned as it is.
// Once the case or the tenant is erased it is an *ErasedError.
func (k *Keys) OpenText(caseID, s string) (string, error) {
	b64, ok := strings.CutPrefix(s, ShredPrefix)
	if !ok {
		return s, nil
	}
	if err := k.Erased(caseID); err != nil {
		return "", err
	}
	key, err := k.CaseKey(indexKeyCase, false)
	if err != nil {
		return "", err
	}
	ct, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil {
		return "", fmt.Errorf("case %s: an encrypted field of the index does not decode: %v", caseID, err)
	}
	pt, err := decrypt(key, caseID, ct)
	if err != nil {
		return "", err
	}
	return string(pt), nil
}

// payloadMembers is the plaintext SealEvent encrypts: the JSON members of
// ev's encoding that carry its payload (values, undo, features,
// message) as one object, without the kind and the location that stay
// in clear, so that OpenRecord can put them back in place of the
// encrypted value without decoding the event (openSpliced).
func payloadMembers(ev *engine.Event) ([]byte, error) {
	b, err := engine.EncodeEvent(&engine.Event{Kind: ev.Kind, Values: ev.Values, Undo: ev.Undo, Features: ev.Features, Message: ev.Message})
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	delete(m, "k")
	delete(m, "lo")
	return json.Marshal(m)
}

// shredValue is how an encrypted payload starts in an event's encoding.
var shredValue = []byte(`"v":["` + ShredPrefix)

// openSpliced decrypts an event's payload by splicing the decrypted
// members (payloadMembers) into the encoding in place of the encrypted
// value: no JSON decoding, the cost of a scan of an encrypted log. It
// reports false for anything else (an erased case, a payload sealed in
// another form, damage), which OpenRecord then handles in full.
func (k *Keys) openSpliced(id string, payload []byte) ([]byte, bool) {
	at := bytes.Index(payload, shredValue)
	if at < 0 {
		return nil, false
	}
	start := at + len(shredValue)
	n := bytes.Index(payload[start:], []byte(`"]`))
	if n < 0 {
		return nil, false
	}
	g, err := k.caseAEAD(id)
	if err != nil {
		return nil, false
	}
	ct := make([]byte, base64.RawURLEncoding.DecodedLen(n))
	if _, err := base64.RawURLEncoding.Decode(ct, payload[start:start+n]); err != nil {
		return nil, false
	}
	pt, err := openCT(g, id, ct)
	if err != nil || len(pt) < 3 || pt[0] != '{' || pt[len(pt)-1] != '}' || bytes.HasPrefix(pt, []byte(`{"k":`)) {
		return nil, false
	}
	out := make([]byte, 0, len(payload)+len(pt))
	out = append(out, payload[:at]...)
	out = append(out, pt[1:len(pt)-1]...)
	return append(out, payload[start+n+2:]...), true
}

// caseAEAD is case id's cipher (AES-256-GCM under its data key), kept
// while its key is: a scan opens many records of few cases.
func (k *Keys) caseAEAD(id string) (cipher.AEAD, error) {
	k.mu.Lock()
	g := k.aeads[id]
	k.mu.Unlock()
	if g != nil {
		if err := k.Erased(id); err != nil {
			return nil, err
		}
		return g, nil
	}
	key, err := k.CaseKey(id, false)
	if err != nil {
		return nil, err
	}
	if g, err = newGCM(key); err != nil {
		return nil, err
	}
	k.mu.Lock()
	if k.erasedErr(id) == nil {
		k.aeads[id] = g
	}
	k.mu.Unlock()
	return g, nil
}
