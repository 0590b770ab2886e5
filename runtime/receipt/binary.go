// This file implements the binary receipt log (format v2): a header,
// then one record per receipt. A record is the receipt's hashed encoding
// itself, so a receipt is encoded once and hashed once, with no hex and
// no JSON on the append path. Logs written before it (JSON lines, v1)
// are still read, and appended to in their own format.

package receipt

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// binaryMagic starts a v2 log. A v1 log starts with '{'.
const binaryMagic = "knhk-receipts/v2\n"

// hashPrefix is what a receipt's hash covers before its fields: RFC
// 6962's leaf prefix and the receipt encoding's name.
const hashPrefix = "\x00knhk-receipt/v1\x00"

// A record is uvarint(len(body)) || body, body = fields || hash, fields
// the encoding appendFields writes (the receipt hash's pre-image after
// hashPrefix) and hash the receipt's 32-byte hash. The stored hash lets
// a changed field be found at its own receipt rather than at the next
// one's Prev.

// appendFields appends the encoding of r's fields (all but Hash).
func appendFields(b []byte, r *Receipt) []byte {
	b = binary.AppendUvarint(b, r.Seq)
	b = appendString(b, r.Case)
	b = appendString(b, r.Kind)
	b = appendString(b, r.Descriptor)
	b = binary.AppendVarint(b, int64(r.Frame))
	b = binary.AppendVarint(b, int64(r.Trans))
	b = append(b, r.Input[:]...)
	b = append(b, r.Event[:]...)
	b = append(b, r.Output[:]...)
	return append(b, r.Prev[:]...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// writeRecord hashes r, whose fields buf holds after hashPrefix (as
// appendFields wrote them), sets r.Hash and writes r's record to w.
func writeRecord(w *bufio.Writer, buf []byte, r *Receipt) error {
	r.Hash = sha256.Sum256(buf)
	fields := buf[len(hashPrefix):]
	var hdr [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(hdr[:], uint64(len(fields)+len(r.Hash)))
	w.Write(hdr[:n])
	w.Write(fields)
	_, err := w.Write(r.Hash[:])
	return err
}

// decodeRecord parses a record's body: the fields and the stored hash.
// It checks the form only; [chain.add] checks the hash and the chain.
func decodeRecord(body []byte) (*Receipt, error) {
	d := decoder{b: body}
	var r Receipt
	r.Seq = d.uvarint()
	r.Case = d.str()
	r.Kind = d.str()
	r.Descriptor = d.str()
	r.Frame = d.int32()
	r.Trans = d.int32()
	for _, x := range []*Digest{&r.Input, &r.Event, &r.Output, &r.Prev, &r.Hash} {
		d.digest(x)
	}
	if d.err != nil {
		return nil, d.err
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("has %d bytes after its hash", len(d.b))
	}
	if r.Case == "" || r.Kind == "" {
		return nil, errors.New("has no case or kind")
	}
	return &r, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("is cut short or malformed in its %s", what)
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("sequence number")
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *decoder) int32() int32 {
	x, n := binary.Varint(d.b)
	if n <= 0 || x != int64(int32(x)) {
		d.fail("frame or transition")
		return 0
	}
	d.b = d.b[n:]
	return int32(x)
}

func (d *decoder) str() string {
	l, n := binary.Uvarint(d.b)
	if n <= 0 || l > uint64(len(d.b)-n) {
		d.fail("strings")
		return ""
	}
	s := string(d.b[n : n+int(l)])
	d.b = d.b[n+int(l):]
	return s
}

func (d *decoder) digest(x *Digest) {
	if len(d.b) < len(x) {
		d.fail("digests")
		return
	}
	copy(x[:], d.b)
	d.b = d.b[len(x):]
}

// logFormat is how a receipt log file is written.
type logFormat int

const (
	formatNone   logFormat = iota // no file, or an empty one
	formatJSON                    // v1: JSON lines
	formatBinary                  // v2
)

// sniffFormat tells the format of the log file at path.
func sniffFormat(path string) (logFormat, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return formatNone, nil
	}
	if err != nil {
		return formatNone, err
	}
	defer f.Close()
	head := make([]byte, len(binaryMagic))
	n, err := io.ReadFull(f, head)
	head = head[:n]
	switch {
	case n == 0:
		return formatNone, nil
	case head[0] == '{':
		return formatJSON, nil
	case bytes.Equal(head, []byte(binaryMagic)):
		return formatBinary, nil
	case err != nil && bytes.HasPrefix([]byte(binaryMagic), head):
		return formatNone, nil // a header cut by a crash: no receipts yet
	}
	return formatNone, fmt.Errorf("receipt log %s: not a receipt log (it starts with %q)", path, truncate(string(head)))
}

// readReceipts calls fn with each receipt of the log at path from byte
// offset from (0: the start), in either format, and the offset just past
// it; seq0 is the sequence number of the receipt at from. A last entry cut by a crash is not passed on: its offset is
// returned as cut, -1 when there is none. A missing file has none.
func readReceipts(path string, from int64, seq0 uint64, fn func(r *Receipt, end int64) error) (cut int64, err error) {
	format, err := sniffFormat(path)
	if err != nil {
		return -1, err
	}
	switch format {
	case formatNone:
		if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
			return 0, nil // a cut header
		}
		return -1, nil
	case formatJSON:
		if from != 0 {
			return -1, errors.New("a JSON receipt log is read from its start")
		}
		var off int64
		var n uint64
		return readLines(path, func(line []byte) error {
			off += int64(len(line)) + 1
			r, err := decodeLine(line)
			if err != nil {
				return &Problem{Seq: n, Reason: "the entry " + err.Error()}
			}
			n++
			return fn(r, off)
		})
	}
	f, err := os.Open(path)
	if err != nil {
		return -1, err
	}
	defer f.Close()
	if from < int64(len(binaryMagic)) {
		from = int64(len(binaryMagic))
	}
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return -1, err
	}
	br := bufio.NewReaderSize(f, 64<<10)
	off := from
	body := make([]byte, 0, 512)
	for seq := seq0; ; seq++ {
		l, err := binary.ReadUvarint(br)
		if err == io.EOF {
			return -1, nil
		}
		if err == io.ErrUnexpectedEOF {
			return off, nil
		}
		if err != nil {
			return -1, &Problem{Seq: seq, Reason: "the entry's length does not decode: " + err.Error()}
		}
		if l > maxLine || l < 32 {
			return -1, &Problem{Seq: seq, Reason: fmt.Sprintf("the entry's length %d is out of range", l)}
		}
		body = body[:l]
		if _, err := io.ReadFull(br, body); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return off, nil
			}
			return -1, err
		}
		off += int64(uvarintLen(l)) + int64(l)
		r, err := decodeRecord(body)
		if err != nil {
			return -1, &Problem{Seq: seq, Reason: "the entry " + err.Error()}
		}
		if err := fn(r, off); err != nil {
			return -1, err
		}
	}
}

func uvarintLen(x uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], x)
}
