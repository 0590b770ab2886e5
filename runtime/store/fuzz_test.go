// This file fuzzes the record decoder and Open's handling of the log tail.

package store

import (
	"bytes"
	"os"
	"testing"
)

// FuzzDecodeRecord feeds arbitrary bytes to the frame decoder. Beyond not
// panicking, an accepted frame must re-encode to exactly the bytes it was
// decoded from (so there is one encoding per record), and damaging any
// accepted frame must make the decoder reject it.
func FuzzDecodeRecord(f *testing.F) {
	for _, r := range []Record{
		{CaseID: "case-1", Kind: "fire", Payload: []byte("payload")},
		{},
		{CaseID: string(make([]byte, 200)), Kind: "k", Payload: bytes.Repeat([]byte{0xff}, 300)},
	} {
		frame := appendFrame(nil, &r, 7)
		f.Add(frame)
		f.Add(frame[:len(frame)-1])
		f.Add(append(frame, 1, 2, 3))
		bad := bytes.Clone(frame)
		bad[len(bad)-1] ^= 1
		f.Add(bad)
	}
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxBody = 1 << 16
		rec, n, err := decodeFrame(data, maxBody)
		if err != nil {
			if n != 0 {
				t.Fatalf("rejected frame reports size %d", n)
			}
			if !isFrameError(err) {
				t.Fatalf("unexpected error kind %v", err)
			}
			return
		}
		if n < frameHeaderSize+minBodySize || n > len(data) || n-frameHeaderSize > maxBody {
			t.Fatalf("accepted frame size %d of %d bytes", n, len(data))
		}
		if rec.Seq == 0 {
			t.Fatal("accepted sequence number 0")
		}
		if again := appendFrame(nil, &rec, rec.Seq); !bytes.Equal(again, data[:n]) {
			t.Fatalf("re-encoding differs:\n got %x\nwant %x", again, data[:n])
		}
		if frameSize(&rec) != n {
			t.Fatalf("frameSize %d, decoded %d", frameSize(&rec), n)
		}
		for _, i := range []int{0, 4, frameHeaderSize, n / 2, n - 1} {
			bad := bytes.Clone(data[:n])
			bad[i] ^= 0x10
			if _, _, err := decodeFrame(bad, maxBody); err == nil {
				t.Fatalf("frame with byte %d flipped was accepted", i)
			}
		}
	})
}

// FuzzOpenTail appends arbitrary bytes after the committed records of the
// last segment, as a crash or a stray writer might, and opens the
// directory. Whatever the bytes, Open never loses a committed record: it
// either keeps them all (repairing or keeping the tail) or refuses with a
// CorruptError pointing at or after the first byte appended, leaving the
// file untouched.
func FuzzOpenTail(f *testing.F) {
	valid := appendFrame(nil, &Record{CaseID: "c", Kind: "k", Payload: []byte("x")}, 4)
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3})
	f.Add(valid)
	f.Add(valid[:len(valid)-2])
	f.Add(append(bytes.Repeat([]byte{0}, 9), valid...))
	f.Add(append([]byte{0x20, 0, 0, 0, 9, 9, 9, 9}, valid...))
	f.Fuzz(func(t *testing.T, tail []byte) {
		dir := t.TempDir()
		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if _, err := s.Append(t.Context(), rec("c", i)); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
		path := dir + "/" + segmentName(1)
		committed := size(t, path)
		b, _ := os.ReadFile(path)
		b = append(b, tail...)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		// Whatever follows the acknowledged end was never acknowledged:
		// Open drops all of it, unless it is all zeros, and keeps every
		// committed record.
		s, err = Open(dir, Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer s.Close()
		got := collect(t, s, 1)
		if len(got) != 3 {
			t.Fatalf("Open kept %d records, want the 3 committed", len(got))
		}
		for i, r := range got[:3] {
			if string(r.Payload) != string(rec("c", i).Payload) {
				t.Fatalf("record %d changed: %q", i+1, r.Payload)
			}
		}
		// A tail of zeros is preallocated space (prealloc.go): kept, and
		// no repair.
		torn := len(tail) > 0 && !allZero(tail)
		if rep := s.Report(); rep.Repaired != torn || (rep.Repaired && (rep.TornOffset != committed || rep.TornBytes != int64(len(tail)))) {
			t.Fatalf("report %+v after a %d-byte tail at %d", rep, len(tail), committed)
		}
		if want := committed + int64(len(tail)); !torn && size(t, path) != want {
			t.Fatalf("segment is %d bytes after Open, want %d (zeros kept)", size(t, path), want)
		}
	})
}
