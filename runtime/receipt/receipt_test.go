// This file tests the receipt log: what the recorder writes verifies,
// and each way of tampering with the stored log (a flipped bit, a
// deleted, inserted or reordered entry, a rewritten tail, a cut end, a
// forged checkpoint) is detected and names the first bad receipt.

package receipt

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/sign"
)

var testKey = func() *sign.PrivateKey {
	k, err := sign.Generate(sign.Ed25519)
	if err != nil {
		panic(err)
	}
	return k
}()

// writeLog records n events spread over three cases, with a checkpoint
// every 7 receipts, and closes the recorder.
func writeLog(t testing.TB, n int) string {
	t.Helper()
	dir := t.TempDir()
	r, err := Open(dir, Options{Key: testKey, Every: 7, Interval: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		ev := &engine.Event{Kind: engine.EvFire, Trans: int32(i), Values: eval.Values(int64(i))}
		if i < 3 {
			ev = &engine.Event{Kind: engine.EvStart, Values: eval.Values("x")}
		}
		if err := r.Record(fmt.Sprintf("c-%d", i%3), "d1", ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func logPath(dir string) string { return filepath.Join(dir, Dir, LogFile) }

// toJSON rewrites the log of dir as JSON lines (the v1 format, which is
// what Dump writes), for the tests that edit it line by line.
func toJSON(t *testing.T, dir string) {
	t.Helper()
	var b bytes.Buffer
	if err := Dump(dir, &b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(logPath(dir), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func lines(t *testing.T, path string) [][]byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b[:len(b)-1], []byte("\n"))
}

func writeLines(t *testing.T, path string, ls [][]byte) {
	var b []byte
	for _, l := range ls {
		b = append(b, bytes.TrimSuffix(l, []byte("\n"))...)
		b = append(b, '\n')
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func verify(t *testing.T, dir string) *Report {
	t.Helper()
	rep, err := Verify(dir, VerifyOptions{Trust: sign.NewTrustSet(testKey.Public())})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestCleanLogVerifies(t *testing.T) {
	dir := writeLog(t, 30)
	rep := verify(t, dir)
	if rep.Problem != nil {
		t.Fatalf("clean log: %v", rep.Problem)
	}
	// 30 receipts, a checkpoint every 7 and one at Close: 7, 14, 21, 28, 30.
	if rep.Receipts != 30 || rep.Signed != 30 || rep.Checkpoints != 5 || rep.Cases != 3 || !rep.Anchored {
		t.Fatalf("report %+v", rep)
	}
	// Reopening continues the chain.
	r, err := Open(dir, Options{Key: testKey, Every: 100, Interval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Record("c-1", "d1", &engine.Event{Kind: engine.EvDone}); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if rep := verify(t, dir); rep.Problem != nil || rep.Receipts != 31 {
		t.Fatalf("after reopening: %+v %v", rep, rep.Problem)
	}
}

// Each tampering of the stored log is found at the first receipt it
// touched.
func TestTamperingIsDetected(t *testing.T) {
	const n = 30
	type tamper struct {
		name    string
		edit    func(ls [][]byte) [][]byte
		wantSeq uint64
		want    string
	}
	flip := func(i, at int) func([][]byte) [][]byte {
		return func(ls [][]byte) [][]byte {
			ls[i] = append([]byte(nil), ls[i]...)
			ls[i][at] ^= 1
			return ls
		}
	}
	hashAt := func(ls [][]byte, i int) int { return bytes.Index(ls[i], []byte(`"ev":"`)) + 10 }
	cases := []tamper{
		{"flip a bit in a digest", func(ls [][]byte) [][]byte { return flip(12, hashAt(ls, 12))(ls) }, 12, "hash does not match"},
		{"flip a bit in the case id", func(ls [][]byte) [][]byte {
			i := bytes.Index(ls[9], []byte(`"c-`)) + 3
			return flip(9, i)(ls)
		}, 9, "hash does not match"},
		{"flip a bit in the syntax", flip(5, 0), 5, "does not decode"},
		{"delete an entry", func(ls [][]byte) [][]byte { return append(ls[:10:10], ls[11:]...) }, 10, "deleted, inserted or reordered"},
		{"insert a copy", func(ls [][]byte) [][]byte {
			out := append([][]byte{}, ls[:20]...)
			out = append(out, ls[4])
			return append(out, ls[20:]...)
		}, 20, "deleted, inserted or reordered"},
		{"reorder two entries", func(ls [][]byte) [][]byte { ls[15], ls[16] = ls[16], ls[15]; return ls }, 15, "deleted, inserted or reordered"},
		{"delete the end", func(ls [][]byte) [][]byte { return ls[:25] }, 25, "receipts from 25 on were deleted"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeLog(t, n)
			toJSON(t, dir)
			writeLines(t, logPath(dir), c.edit(lines(t, logPath(dir))))
			p := verify(t, dir).Problem
			if p == nil {
				t.Fatal("not detected")
			}
			if p.Seq != c.wantSeq || !strings.Contains(p.Reason, c.want) {
				t.Fatalf("got %v, want receipt %d: …%s…", p, c.wantSeq, c.want)
			}
			// A recorder refuses to append to the damaged log.
			if _, err := Open(dir, Options{Key: testKey, Interval: -1}); err == nil {
				t.Fatal("Open accepted a damaged log")
			}
		})
	}
}

// An attacker who rewrites receipts from 10 on and recomputes every hash
// keeps the chain intact; the signed checkpoint's root catches it, and
// the first bad receipt named is the first one after the last
// checkpoint that still matches.
func TestRewrittenChainIsDetected(t *testing.T) {
	dir := writeLog(t, 30)
	toJSON(t, dir)
	ls := lines(t, logPath(dir))
	c := newChain(true)
	for i, l := range ls {
		r, err := decodeLine(bytes.TrimSuffix(l, []byte("\n")))
		if err != nil {
			t.Fatal(err)
		}
		if i >= 10 {
			if i == 10 {
				r.Kind = "cancel"
			}
			r.Prev = c.prev
			r.Input = c.cases[r.Case].output()
			r.Output = OutputOf(r.Input, r.Event)
			r.Hash = r.ComputeHash()
		}
		if err := c.add(r); err != nil {
			t.Fatal(err)
		}
		ls[i], _ = encodeLine(r)
	}
	writeLines(t, logPath(dir), ls)
	p := verify(t, dir).Problem
	if p == nil || p.Checkpoint != 2 || p.Seq != 7 || !strings.Contains(p.Reason, "rewritten") {
		t.Fatalf("got %v, want checkpoint 2 naming receipt 7", p)
	}
}

func TestForgedCheckpoint(t *testing.T) {
	dir := writeLog(t, 30)
	path := filepath.Join(dir, Dir, CheckpointsFile)
	cps := lines(t, path)
	// A checkpoint signed by another key.
	other, _ := sign.Generate(sign.Ed25519)
	cp, _ := decodeCheckpoint(bytes.TrimSuffix(cps[2], []byte("\n")))
	if err := signCheckpoint(cp, other); err != nil {
		t.Fatal(err)
	}
	cps[2], _ = encodeCheckpoint(cp)
	writeLines(t, path, cps)
	p := verify(t, dir).Problem
	if p == nil || p.Checkpoint != 3 || !strings.Contains(p.Reason, "not trusted") {
		t.Fatalf("got %v", p)
	}
	// A checkpoint whose size was changed: its signature fails.
	dir = writeLog(t, 30)
	path = filepath.Join(dir, Dir, CheckpointsFile)
	cps = lines(t, path)
	cps[1] = bytes.Replace(cps[1], []byte(`"size":14`), []byte(`"size":13`), 1)
	writeLines(t, path, cps)
	p = verify(t, dir).Problem
	if p == nil || p.Checkpoint != 2 || !strings.Contains(p.Reason, "does not verify") {
		t.Fatalf("got %v", p)
	}
	// A policy that no longer accepts Ed25519.
	dir = writeLog(t, 10)
	rep, err := Verify(dir, VerifyOptions{Trust: sign.NewTrustSet(testKey.Public()), Policy: sign.Policy{Min: sign.Hybrid}})
	if err != nil || rep.Problem == nil || !strings.Contains(rep.Problem.Reason, "does not accept") {
		t.Fatalf("got %v, %v", rep, err)
	}
}

// A line cut by a crash after the last checkpoint is dropped by the
// next Open; verify reports it without failing.
func TestCutTail(t *testing.T) {
	dir := writeLog(t, 14)
	toJSON(t, dir)
	f, _ := os.OpenFile(logPath(dir), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"seq":14,"case":"c-`)
	f.Close()
	if rep := verify(t, dir); rep.Problem != nil || !rep.Cut {
		t.Fatalf("got %+v", rep)
	}
	r, err := Open(dir, Options{Key: testKey, Interval: -1})
	if err != nil {
		t.Fatal(err)
	}
	r.Record("c-0", "d1", &engine.Event{Kind: engine.EvDone})
	r.Close()
	if rep := verify(t, dir); rep.Problem != nil || rep.Cut || rep.Receipts != 15 {
		t.Fatalf("got %+v %v", rep, rep.Problem)
	}
}

// The interval makes a checkpoint without N receipts.
func TestCheckpointInterval(t *testing.T) {
	dir := t.TempDir()
	r, err := Open(dir, Options{Key: testKey, Every: 1000, Interval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Record("c", "d", &engine.Event{Kind: engine.EvStart})
	deadline := time.Now().Add(5 * time.Second)
	for {
		cps, err := loadCheckpoints(filepath.Join(dir, Dir, CheckpointsFile), false)
		if err != nil {
			t.Fatal(err)
		}
		if len(cps) == 1 && cps[0].Size == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint after the interval: %d", len(cps))
		}
		time.Sleep(time.Millisecond)
	}
}

// Wrap records after each Append and keeps the log's optional
// interfaces.
func TestWrapKeepsInterfaces(t *testing.T) {
	dir := t.TempDir()
	r, err := Open(dir, Options{Key: testKey, Interval: -1})
	if err != nil {
		t.Fatal(err)
	}
	mem := engine.NewMemLog()
	l := r.Wrap(mem, "d")
	if _, ok := l.(engine.Snapshotter); !ok {
		t.Fatal("Wrap dropped Snapshotter")
	}
	if err := l.Append(context.Background(), "c", &engine.Event{Kind: engine.EvStart}); err != nil {
		t.Fatal(err)
	}
	if r.Size() != 1 {
		t.Fatalf("%d receipts", r.Size())
	}
	r.Close()
}

// One recorder at a time appends to a data directory's log; the second
// is refused until the first closes.
func TestOneRecorderAtATime(t *testing.T) {
	dir := t.TempDir()
	r, err := Open(dir, Options{Key: testKey, Interval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{Key: testKey, Interval: -1}); err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("second recorder: %v", err)
	}
	r.Close()
	r2, err := Open(dir, Options{Key: testKey, Interval: -1})
	if err != nil {
		t.Fatalf("after the first closed: %v", err)
	}
	r2.Close()
}

// A signer that falls behind signs only the latest of many pending
// checkpoints; the log still verifies and every receipt is covered.
func TestSlowSignerCoalesces(t *testing.T) {
	dir := t.TempDir()
	r, err := Open(dir, Options{Key: testKey, Every: 1, Interval: -1})
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock() // hold the writer back while 100 checkpoints are cut
	for i := 0; i < 100; i++ {
		r.appendLocked(&queued{caseID: "c", desc: "d", kind: "fire", trans: int32(i)})
	}
	r.qn = r.next
	r.mu.Unlock()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	rep := verify(t, dir)
	if rep.Problem != nil || rep.Signed != 100 || rep.Checkpoints >= 100 {
		t.Fatalf("%+v %v", rep, rep.Problem)
	}
}

func tailPath(dir string) string { return filepath.Join(dir, Dir, TailFile) }
