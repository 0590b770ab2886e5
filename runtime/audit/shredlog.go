// This file implements Shred: the event log decorator that encrypts what
// a case's events carry (arguments, results, signal payloads, task
// inputs and outputs, compensation arguments, route features, failure
// messages) and its snapshots under the case's data key, so that
// erasing the key (Keys.EraseCase, Keys.EraseTenant) leaves only
// ciphertext behind.

package audit

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

// ShredPrefix starts an encrypted event payload (the event's only value)
// and an encrypted snapshot.
const ShredPrefix = "knhk-shred:v1:"

// Shred returns log with every event's payload and every snapshot
// encrypted under its case's key in keys; Replay decrypts them, and
// fails with an *ErasedError once the key is destroyed. Put it above
// the receipt log's decorator (receipt.Recorder.Wrap), so that receipts
// cover the ciphertext the event log stores: they then verify against
// the event log after an erasure. The result keeps log's optional
// interfaces (engine.Snapshotter, engine.Flusher).
func Shred(log engine.EventLog, keys *Keys) engine.EventLog {
	base := &shredLog{EventLog: log, k: keys}
	sn, isSnap := log.(engine.Snapshotter)
	fl, isFlush := log.(engine.Flusher)
	switch {
	case isSnap && isFlush:
		return &shredSnapFlush{shredSnap{base, sn}, fl}
	case isSnap:
		return &shredSnap{base, sn}
	case isFlush:
		return &shredFlush{base, fl}
	}
	return base
}

type shredLog struct {
	engine.EventLog
	k *Keys
}

func (l *shredLog) Append(ctx context.Context, caseID string, ev *engine.Event) error {
	enc, err := l.k.SealEvent(caseID, ev)
	if err != nil {
		return err
	}
	return l.EventLog.Append(ctx, caseID, enc)
}

func (l *shredLog) Replay(ctx context.Context, caseID string, fn func(*engine.Event) error) error {
	return l.EventLog.Replay(ctx, caseID, l.opener(caseID, fn))
}

func (l *shredLog) opener(caseID string, fn func(*engine.Event) error) func(*engine.Event) error {
	return func(ev *engine.Event) error {
		dec, err := l.k.OpenEvent(caseID, ev)
		if err != nil {
			return err
		}
		return fn(dec)
	}
}

type shredSnap struct {
	*shredLog
	sn engine.Snapshotter
}

func (l *shredSnap) SaveSnapshot(ctx context.Context, caseID string, snap []byte) error {
	key, err := l.k.CaseKey(caseID, true)
	if err != nil {
		return err
	}
	ct, err := encrypt(key, caseID, snap)
	if err != nil {
		return err
	}
	return l.sn.SaveSnapshot(ctx, caseID, append([]byte(ShredPrefix), ct...))
}

func (l *shredSnap) ReplaySnapshot(ctx context.Context, caseID string, restore func([]byte) error, fn func(*engine.Event) error) error {
	open := func(snap []byte) error {
		ct, ok := bytes.CutPrefix(snap, []byte(ShredPrefix))
		if !ok {
			return restore(snap) // made before the log was encrypted
		}
		key, err := l.k.CaseKey(caseID, false)
		if err != nil {
			return err
		}
		pt, err := decrypt(key, caseID, ct)
		if err != nil {
			return err
		}
		return restore(pt)
	}
	return l.sn.ReplaySnapshot(ctx, caseID, open, l.opener(caseID, fn))
}

type shredFlush struct {
	*shredLog
	fl engine.Flusher
}

func (l *shredFlush) Flush(caseID string) { l.fl.Flush(caseID) }

type shredSnapFlush struct {
	shredSnap
	fl engine.Flusher
}

func (l *shredSnapFlush) Flush(caseID string) { l.fl.Flush(caseID) }

// SealEvent returns a copy of ev whose payload (Values, Undo, Features,
// Message) is encrypted under case caseID's key as one string value; an
// event without payload is returned as it is.
func (k *Keys) SealEvent(caseID string, ev *engine.Event) (*engine.Event, error) {
	if len(ev.Values) == 0 && len(ev.Undo) == 0 && len(ev.Features) == 0 && ev.Message == "" {
		return ev, nil
	}
	key, err := k.CaseKey(caseID, true)
	if err != nil {
		return nil, err
	}
	pt, err := payloadMembers(ev)
	if err != nil {
		return nil, err
	}
	ct, err := encrypt(key, caseID, pt)
	if err != nil {
		return nil, err
	}
	out := *ev
	out.Values, out.Undo, out.Features, out.Message = []eval.Value{eval.Str(ShredPrefix + base64.RawURLEncoding.EncodeToString(ct))}, nil, nil, ""
	return &out, nil
}

// OpenEvent returns ev with its payload decrypted; an event whose payload
// is not encrypted is returned as it is. A destroyed key is an
// *ErasedError.
func (k *Keys) OpenEvent(caseID string, ev *engine.Event) (*engine.Event, error) {
	if len(ev.Values) != 1 {
		return ev, nil
	}
	s := ev.Values[0].AsString()
	if ev.Values[0].Kind() != ir.KindString || !strings.HasPrefix(s, ShredPrefix) {
		return ev, nil
	}
	key, err := k.CaseKey(caseID, false)
	if err != nil {
		return nil, err
	}
	ct, err := base64.RawURLEncoding.DecodeString(s[len(ShredPrefix):])
	if err != nil {
		return nil, fmt.Errorf("case %s: an encrypted event payload does not decode: %v", caseID, err)
	}
	pt, err := decrypt(key, caseID, ct)
	if err != nil {
		return nil, err
	}
	c, err := engine.DecodeEvent(pt)
	if err != nil {
		return nil, fmt.Errorf("case %s: a decrypted event payload: %w", caseID, err)
	}
	out := *ev
	out.Values, out.Undo, out.Features, out.Message = c.Values, c.Undo, c.Features, c.Message
	return &out, nil
}

// encrypt seals pt with AES-256-GCM under key; the additional data binds
// the format and the case, so that one case's ciphertext never opens as
// another's.
func encrypt(key []byte, caseID string, pt []byte) ([]byte, error) {
	g, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return g.Seal(nonce, nonce, pt, []byte(ShredPrefix+caseID)), nil
}

func decrypt(key []byte, caseID string, ct []byte) ([]byte, error) {
	g, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	return openCT(g, caseID, ct)
}

// openCT opens ct, a nonce and what encrypt sealed with it, with g, the
// cipher of case caseID's key.
func openCT(g cipher.AEAD, caseID string, ct []byte) ([]byte, error) {
	if len(ct) < g.NonceSize() {
		return nil, errors.New("an encrypted payload is cut short")
	}
	pt, err := g.Open(nil, ct[:g.NonceSize()], ct[g.NonceSize():], []byte(ShredPrefix+caseID))
	if err != nil {
		return nil, fmt.Errorf("case %s: an encrypted payload does not open with the case's key: it was changed, or is another case's", caseID)
	}
	return pt, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}
