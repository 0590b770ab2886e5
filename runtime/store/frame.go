// This file implements the framing of one record on disk: length, CRC32C
// and body.

package store

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// frameHeaderSize is the length and checksum in front of every body.
const frameHeaderSize = 8

// minBodySize is a body with an empty case id, kind and payload: the
// sequence number and two one-byte lengths.
const minBodySize = 8 + 1 + 1

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var (
	// errShortFrame means the buffer ends before the frame does.
	errShortFrame = errors.New("frame runs past the end of the data")
	// errBadLength means the length field is out of bounds.
	errBadLength = errors.New("record length out of range")
	// errChecksum means the stored CRC32C does not match.
	errChecksum = errors.New("record checksum mismatch")
	// errMalformedBody means the checksum is right but the body is not a
	// well-formed record; only a bug or a forged CRC produces it.
	errMalformedBody = errors.New("malformed record body")
)

// frameSize returns the number of bytes rec takes on disk.
func frameSize(rec *Record) int {
	return frameHeaderSize + 8 +
		uvarintLen(uint64(len(rec.CaseID))) + len(rec.CaseID) +
		uvarintLen(uint64(len(rec.Kind))) + len(rec.Kind) +
		len(rec.Payload)
}

// appendFrame appends the frame of rec, with sequence number seq, to dst.
func appendFrame(dst []byte, rec *Record, seq Seq) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(seq))
	dst = binary.AppendUvarint(dst, uint64(len(rec.CaseID)))
	dst = append(dst, rec.CaseID...)
	dst = binary.AppendUvarint(dst, uint64(len(rec.Kind)))
	dst = append(dst, rec.Kind...)
	dst = append(dst, rec.Payload...)
	body := len(dst) - start - frameHeaderSize
	binary.LittleEndian.PutUint32(dst[start:], uint32(body))
	binary.LittleEndian.PutUint32(dst[start+4:], frameChecksum(dst[start:start+4], dst[start+frameHeaderSize:]))
	return dst
}

// frameChecksum covers the length field too, so a flipped length bit is
// caught even when the wrong length happens to stay in bounds.
func frameChecksum(length, body []byte) uint32 {
	c := crc32.Update(0, castagnoli, length)
	return crc32.Update(c, castagnoli, body)
}

// frameBodyLen reads and bounds-checks the length field of the frame at
// the start of buf, which must hold at least frameHeaderSize bytes.
func frameBodyLen(buf []byte, maxBody int) (int, error) {
	n := binary.LittleEndian.Uint32(buf)
	if n < minBodySize || uint64(n) > uint64(maxBody) {
		return 0, errBadLength
	}
	return int(n), nil
}

// decodeFrame decodes the frame at the start of buf and returns the record
// and the frame's size. The record's strings and payload are copies, so
// buf may be reused. It never panics; every malformed input is an error.
func decodeFrame(buf []byte, maxBody int) (Record, int, error) {
	if len(buf) < frameHeaderSize {
		return Record{}, 0, errShortFrame
	}
	n, err := frameBodyLen(buf, maxBody)
	if err != nil {
		return Record{}, 0, err
	}
	if len(buf)-frameHeaderSize < n {
		return Record{}, 0, errShortFrame
	}
	body := buf[frameHeaderSize : frameHeaderSize+n]
	if frameChecksum(buf[:4], body) != binary.LittleEndian.Uint32(buf[4:]) {
		return Record{}, 0, errChecksum
	}
	rec, err := decodeBody(body)
	if err != nil {
		return Record{}, 0, err
	}
	return rec, frameHeaderSize + n, nil
}

// decodeBody decodes a checksummed body into a record that owns its
// bytes.
func decodeBody(body []byte) (Record, error) {
	v, err := decodeBodyView(body)
	if err != nil {
		return Record{}, err
	}
	return v.Record(), nil
}

// decodeBodyView decodes a checksummed body without copying. Lengths must
// be minimal uvarints, so every accepted frame re-encodes to the same
// bytes.
func decodeBodyView(body []byte) (RecordView, error) {
	if len(body) < 8 {
		return RecordView{}, errMalformedBody
	}
	v := RecordView{Seq: Seq(binary.LittleEndian.Uint64(body))}
	rest := body[8:]
	caseID, rest, ok := readBytes(rest)
	if !ok {
		return RecordView{}, errMalformedBody
	}
	kind, rest, ok := readBytes(rest)
	if !ok {
		return RecordView{}, errMalformedBody
	}
	if v.Seq == 0 {
		return RecordView{}, errMalformedBody
	}
	v.CaseID, v.Kind, v.Payload = caseID, kind, rest
	return v, nil
}

func readBytes(b []byte) ([]byte, []byte, bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || k != uvarintLen(n) || n > uint64(len(b)-k) {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}
