// This file implements the tail state: where the receipt log stood when
// its recorder last closed, so that the next Open reads only the
// receipts written after it, and Backfill scans only the events appended
// after it, instead of the whole receipt log and the whole event log.

package receipt

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/transparency-dev/merkle/compact"
)

// TailFile holds the tail state, under the receipts directory.
const TailFile = "tail"

// tailState is the recorder's state at byte Off of a v2 log. It is a
// cache: a tail that does not match the log is ignored and the log read
// in full; knhk receipts verify never uses it.
type tailState struct {
	Version int               `json:"version"`
	Off     int64             `json:"off"`    // bytes of the log it covers
	Next    uint64            `json:"next"`   // receipts in them
	Prev    Digest            `json:"prev"`   // the hash of the last one
	Range   []string          `json:"range"`  // the compact range [0, Next) of their tree, hex
	Cases   map[string]tailCC `json:"cases"`  // where each case's receipts stand
	CPOff   int64             `json:"cp_off"` // bytes of the checkpoint log
	Signed  uint64            `json:"signed"` // receipts its last checkpoint covers
	// EvFrom is the event log position (store sequence number) before
	// which every event has a receipt; EvCounts the events of each case
	// before it. Backfill scans from there.
	EvFrom   uint64         `json:"ev_from"`
	EvCounts map[string]int `json:"ev_counts,omitempty"`
}

type tailCC struct {
	Out Digest `json:"out"`
	N   int    `json:"n"`
}

// saveTail writes the tail state of r, which has closed its log
// cleanly: every receipt and checkpoint written is durable.
func (r *Recorder) saveTail() error {
	if r.format != formatBinary {
		// A v1 log is read in full; a tail left from a binary log
		// that was replaced must not be taken for its state.
		if err := os.Remove(filepath.Join(r.dir, TailFile)); err != nil && !os.IsNotExist(err) {
			return err
		}
		return nil
	}
	cpOff, err := r.cpf.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	t := tailState{Version: 1, Off: r.off, Next: r.next, Prev: r.prev, Cases: make(map[string]tailCC, len(r.cases)),
		CPOff: cpOff, Signed: r.signedSize, EvFrom: r.evFrom, EvCounts: r.evCounts}
	for _, h := range r.rng.Hashes() {
		t.Range = append(t.Range, hex.EncodeToString(h))
	}
	for id, c := range r.cases {
		t.Cases[id] = tailCC{Out: c.out, N: c.n}
	}
	b, err := json.Marshal(&t)
	if err != nil {
		return err
	}
	path := filepath.Join(r.dir, TailFile)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// loadTail reads the tail state of the log in dir and checks it against
// the log and checkpoint files: nil when there is none or it does not
// match them (the log is then read in full).
func loadTail(dir string) *tailState {
	b, err := os.ReadFile(filepath.Join(dir, TailFile))
	if err != nil {
		return nil
	}
	var t tailState
	if err := json.Unmarshal(b, &t); err != nil || t.Version != 1 || t.Off < int64(len(binaryMagic)) {
		return nil
	}
	if t.Signed > t.Next {
		return nil
	}
	if fi, err := os.Stat(filepath.Join(dir, CheckpointsFile)); err != nil || fi.Size() < t.CPOff {
		return nil
	}
	f, err := os.Open(filepath.Join(dir, LogFile))
	if err != nil {
		return nil
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || fi.Size() < t.Off {
		return nil
	}
	// The log still holds, just before Off, the hash of receipt Next-1.
	if t.Next > 0 {
		var last Digest
		if _, err := f.ReadAt(last[:], t.Off-int64(len(last))); err != nil || last != t.Prev {
			return nil
		}
	} else if t.Off != int64(len(binaryMagic)) {
		return nil
	}
	return &t
}

// restore returns the chain and compact range the tail state holds.
func (t *tailState) restore() (*chain, *compact.Range, error) {
	hashes := make([][]byte, len(t.Range))
	for i, h := range t.Range {
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != 32 {
			return nil, nil, errors.New("bad range hash")
		}
		hashes[i] = b
	}
	rng, err := rangeFac.NewRange(0, t.Next, hashes)
	if err != nil {
		return nil, nil, err
	}
	// Next-1's leaf is the last receipt's hash; a range that does not
	// end in it was not written with this log.
	if l := lastLeafOf(t.Next, hashes); l != nil && !bytes.Equal(l, t.Prev[:]) {
		return nil, nil, fmt.Errorf("range does not end in receipt %d", t.Next-1)
	}
	c := newChain(false)
	c.n, c.prev = t.Next, t.Prev
	for id, cc := range t.Cases {
		c.cases[id] = &caseChain{out: cc.Out, n: cc.N}
	}
	return c, rng, nil
}

// lastLeafOf returns the last leaf of a compact range [0, n) when it is
// one of the range's hashes (n odd), nil otherwise.
func lastLeafOf(n uint64, hashes [][]byte) []byte {
	if n%2 == 1 && len(hashes) > 0 {
		return hashes[len(hashes)-1]
	}
	return nil
}
