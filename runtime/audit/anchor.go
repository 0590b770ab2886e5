// This file implements anchors: the audit chain's head committed as a
// receipt of the receipt log, so that the chain is covered by the
// receipt log's signed Merkle checkpoints.

package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/receipt"
)

// AnchorCase is the pseudo case under which anchors are receipts: it is
// no case of the event log (a case id never holds a colon's prefix
// "knhk:"), and knhk receipts prove AnchorCase proves every anchor.
const AnchorCase = "knhk:audit"

// anchorSignal names the signal event of an anchor.
const anchorSignal = "knhk.audit.anchor"

// Anchor commits to the first Size records of the audit log: Head is the
// hash of record Size-1. Time (Unix nanoseconds) is when it was made.
type Anchor struct {
	Size uint64 `json:"size"`
	Head Digest `json:"head"`
	Time int64  `json:"time"`
}

// Event returns the event whose digest (receipt.EventDigest) the
// anchor's receipt carries; an auditor rebuilds it from the anchor file.
func (a *Anchor) Event() *engine.Event {
	return &engine.Event{Kind: engine.EvSignal, Time: a.Time, Name: anchorSignal, Values: []eval.Value{eval.Int(int64(a.Size)), eval.Str(a.Head.String())}}
}

// ReadAnchors returns the anchors of data's audit log in order; none
// when the file does not exist. A line cut short at the end is left out.
func ReadAnchors(data string) ([]Anchor, error) {
	b, err := os.ReadFile(filepath.Join(data, Dir, AnchorsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var as []Anchor
	for n := 1; len(b) > 0; n++ {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break // cut by a crash before it was written in full
		}
		var a Anchor
		dec := json.NewDecoder(bytes.NewReader(b[:i]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			return as, fmt.Errorf("audit anchors, line %d: %v", n, err)
		}
		as = append(as, a)
		b = b[i+1:]
	}
	return as, nil
}

// AnchorEvents calls fn with the event of every anchor of data under
// AnchorCase, for receipt.VerifyOptions.Events: knhk receipts verify
// then compares the anchors' receipts with the anchor file as it
// compares a case's receipts with its events.
func AnchorEvents(data string, fn func(caseID string, ev *engine.Event) error) error {
	as, err := ReadAnchors(data)
	if err != nil {
		return err
	}
	for i := range as {
		if err := fn(AnchorCase, as[i].Event()); err != nil {
			return err
		}
	}
	return nil
}

// Anchorer anchors the head of an audit log in a receipt log every
// interval, when the head moved, and at Close.
type Anchorer struct {
	data string
	log  *Log
	rec  *receipt.Recorder
	now  func() time.Time

	mu   sync.Mutex
	last uint64 // the size of the last anchor
	stop chan struct{}
	done chan struct{}
}

// StartAnchorer starts anchoring log (the audit log of data) in rec, the
// receipt log of data, every interval (default 1s). Anchors listed in
// the anchor file without a receipt (a crash between the two) get one
// first, so that the k-th anchor receipt is always the k-th anchor.
func StartAnchorer(data string, log *Log, rec *receipt.Recorder, interval time.Duration) (*Anchorer, error) {
	if interval <= 0 {
		interval = time.Second
	}
	a := &Anchorer{data: data, log: log, rec: rec, now: time.Now, stop: make(chan struct{}), done: make(chan struct{})}
	as, err := ReadAnchors(data)
	if err != nil {
		return nil, err
	}
	have, err := anchorReceipts(data, rec)
	if err != nil {
		return nil, err
	}
	if have > len(as) {
		return nil, fmt.Errorf("the receipt log of %s holds %d audit anchors but %s lists %d: the anchor file lost lines", data, have, filepath.Join(data, Dir, AnchorsFile), len(as))
	}
	for i := have; i < len(as); i++ {
		if err := rec.Record(AnchorCase, "", as[i].Event()); err != nil {
			return nil, err
		}
	}
	if n := len(as); n > 0 {
		a.last = as[n-1].Size
	}
	go a.loop(interval)
	return a, nil
}

// anchorReceipts counts the receipts of AnchorCase in the receipt log.
func anchorReceipts(data string, rec *receipt.Recorder) (int, error) {
	if err := rec.Checkpoint(); err != nil { // what is queued reaches the file
		return 0, err
	}
	pr, pw := newLineCounter()
	err := receipt.Dump(data, pw)
	return pr(), err
}

// newLineCounter returns a writer of receipt JSON lines and the count
// of those of AnchorCase it saw.
func newLineCounter() (func() int, *lineCounter) {
	c := &lineCounter{}
	return func() int { return c.n }, c
}

type lineCounter struct {
	buf []byte
	n   int
}

var anchorCaseField = []byte(`"case":"` + AnchorCase + `"`)

func (c *lineCounter) Write(p []byte) (int, error) {
	c.buf = append(c.buf, p...)
	for {
		i := bytes.IndexByte(c.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		if bytes.Contains(c.buf[:i], anchorCaseField) {
			c.n++
		}
		c.buf = c.buf[i+1:]
	}
}

func (a *Anchorer) loop(interval time.Duration) {
	defer close(a.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			_ = a.Anchor()
		case <-a.stop:
			return
		}
	}
}

// Anchor anchors the log's head now, unless the last anchor covers it.
// The anchor file's line is durable before the receipt is recorded, so a
// crash leaves at worst an anchor whose receipt the next StartAnchorer
// records.
func (a *Anchorer) Anchor() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	size, head, err := a.log.Head()
	if err != nil || size == a.last {
		return err
	}
	an := Anchor{Size: size, Head: head, Time: a.now().UnixNano()}
	line, _ := json.Marshal(&an)
	if err := appendSync(filepath.Join(a.data, Dir, AnchorsFile), append(line, '\n')); err != nil {
		return err
	}
	if err := a.rec.Record(AnchorCase, "", an.Event()); err != nil {
		return err
	}
	a.last = size
	return nil
}

// Close stops the loop and anchors the head a last time; the caller
// closes the receipt log afterwards, which signs a checkpoint over it.
func (a *Anchorer) Close() error {
	close(a.stop)
	<-a.done
	return a.Anchor()
}

func appendSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	_, err = w.Write(b)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
