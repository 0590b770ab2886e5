// This file tests the binary receipt log (v2): each way of tampering
// with the stored records is found at the receipt it touched, a record
// cut by a crash is dropped, and a v1 (JSON lines) log is still read and
// appended to in its own format.

package receipt

import (
	"encoding/binary"
	"os"
	"strings"
	"testing"

	"github.com/knhk/knhk/runtime/engine"
)

// records splits a v2 log into its header and records.
func records(t *testing.T, path string) (head []byte, recs [][]byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), binaryMagic) {
		t.Fatalf("log starts with %q, not the v2 header", b[:min(len(b), 20)])
	}
	head, b = b[:len(binaryMagic)], b[len(binaryMagic):]
	for len(b) > 0 {
		l, n := binary.Uvarint(b)
		recs = append(recs, b[:n+int(l)])
		b = b[n+int(l):]
	}
	return head, recs
}

func writeRecords(t *testing.T, path string, head []byte, recs [][]byte) {
	t.Helper()
	b := append([]byte(nil), head...)
	for _, r := range recs {
		b = append(b, r...)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBinaryTamperingIsDetected(t *testing.T) {
	const n = 30
	flip := func(i, fromEnd int) func([][]byte) [][]byte {
		return func(rs [][]byte) [][]byte {
			rs[i] = append([]byte(nil), rs[i]...)
			rs[i][len(rs[i])-fromEnd] ^= 1
			return rs
		}
	}
	cases := []struct {
		name    string
		edit    func([][]byte) [][]byte
		wantSeq uint64
		want    string
	}{
		// A record ends with in, ev, out, prev and hash, 32 bytes each.
		{"flip a bit in the event digest", flip(12, 4*32-5), 12, "hash does not match"},
		{"flip a bit in the stored hash", flip(12, 3), 12, "hash does not match"},
		{"flip a bit in the case id", func(rs [][]byte) [][]byte {
			rs[9] = append([]byte(nil), rs[9]...)
			i := strings.Index(string(rs[9]), "c-") + 2
			rs[9][i] ^= 1
			return rs
		}, 9, "hash does not match"},
		{"flip a bit in the length", func(rs [][]byte) [][]byte {
			rs[5] = append([]byte(nil), rs[5]...)
			rs[5][0] ^= 0x40
			return rs
		}, 5, "the entry"},
		{"delete an entry", func(rs [][]byte) [][]byte { return append(rs[:10:10], rs[11:]...) }, 10, "deleted, inserted or reordered"},
		{"insert a copy", func(rs [][]byte) [][]byte {
			out := append([][]byte{}, rs[:20]...)
			out = append(out, rs[4])
			return append(out, rs[20:]...)
		}, 20, "deleted, inserted or reordered"},
		{"reorder two entries", func(rs [][]byte) [][]byte { rs[15], rs[16] = rs[16], rs[15]; return rs }, 15, "deleted, inserted or reordered"},
		{"delete the end", func(rs [][]byte) [][]byte { return rs[:25] }, 25, "receipts from 25 on were deleted"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeLog(t, n)
			head, recs := records(t, logPath(dir))
			if len(recs) != n {
				t.Fatalf("%d records, want %d", len(recs), n)
			}
			writeRecords(t, logPath(dir), head, c.edit(recs))
			p := verify(t, dir).Problem
			if p == nil {
				t.Fatal("not detected")
			}
			if p.Seq != c.wantSeq || !strings.Contains(p.Reason, c.want) {
				t.Fatalf("got %v, want receipt %d: …%s…", p, c.wantSeq, c.want)
			}
			// Without the tail state, a recorder reads the whole log and
			// refuses to append to it.
			os.Remove(tailPath(dir))
			if _, err := Open(dir, Options{Key: testKey, Interval: -1}); err == nil {
				t.Fatal("Open accepted a damaged log")
			}
		})
	}
}

// A record cut by a crash after the last checkpoint is dropped by the
// next Open; verify reports it without failing.
func TestBinaryCutTail(t *testing.T) {
	dir := writeLog(t, 14)
	head, recs := records(t, logPath(dir))
	extra := recs[13][:len(recs[13])-7]
	writeRecords(t, logPath(dir), head, append(recs, extra))
	if rep := verify(t, dir); rep.Problem != nil || !rep.Cut || rep.Receipts != 14 {
		t.Fatalf("got %+v %v", rep, rep.Problem)
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

// A log written as JSON lines (v1, before the binary format) verifies,
// and a recorder appends to it in JSON, so it stays one format.
func TestJSONLogStillRead(t *testing.T) {
	dir := writeLog(t, 20)
	toJSON(t, dir)
	if rep := verify(t, dir); rep.Problem != nil || rep.Receipts != 20 {
		t.Fatalf("v1 log: %+v %v", rep, rep.Problem)
	}
	r, err := Open(dir, Options{Key: testKey, Interval: -1})
	if err != nil {
		t.Fatal(err)
	}
	r.Record("c-1", "d1", &engine.Event{Kind: engine.EvDone})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tailPath(dir)); !os.IsNotExist(err) {
		t.Fatalf("a v1 log has a tail state: %v", err)
	}
	ls := lines(t, logPath(dir))
	if len(ls) != 21 || !strings.HasPrefix(string(ls[20]), `{"seq":20,`) {
		t.Fatalf("appended %q", ls[len(ls)-1])
	}
	if rep := verify(t, dir); rep.Problem != nil || rep.Receipts != 21 {
		t.Fatalf("after appending: %+v %v", rep, rep.Problem)
	}
	if _, err := Prove(dir, "c-1"); err != nil {
		t.Fatal(err)
	}
}

// The binary record decodes to the receipt it was written from.
func TestRecordRoundTrip(t *testing.T) {
	r := &Receipt{Seq: 1 << 40, Case: "c-ü", Kind: "fire", Frame: -3, Trans: 1 << 30, Descriptor: "d"}
	r.Input[1], r.Event[2], r.Output[3], r.Prev[4] = 5, 6, 7, 8
	r.Hash = r.ComputeHash()
	b := appendFields(nil, r)
	b = append(b, r.Hash[:]...)
	got, err := decodeRecord(b)
	if err != nil || *got != *r {
		t.Fatalf("%+v %v", got, err)
	}
	for i := range b { // every cut is refused, none panics
		if _, err := decodeRecord(b[:i]); err == nil {
			t.Fatalf("a record cut at %d decoded", i)
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	r := &Receipt{Seq: 3, Case: "c", Kind: "fire", Descriptor: "d"}
	r.Hash = r.ComputeHash()
	f.Add(append(appendFields(nil, r), r.Hash[:]...))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			return
		}
		again := append(appendFields(nil, r), r.Hash[:]...)
		r2, err := decodeRecord(again)
		if err != nil || *r2 != *r {
			t.Fatalf("re-encoded record differs: %+v %v", r2, err)
		}
	})
}
