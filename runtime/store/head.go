// This file implements the durable record of what the log acknowledged:
// the mark in each segment and HEAD, which names the active segment.

package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/knhk/knhk/internal/atomicfile"
)

// A segment keeps two copies ("slots") of its mark, the acknowledged end
// of its records, in separate 512-byte sectors between its header and its
// first frame. A commit writes its frames after the acknowledged end and
// the new mark into the slot its generation selects, and covers both with
// one fdatasync; only then is the batch acknowledged. A torn slot write
// leaves the other slot, one generation older and still valid.
const (
	markMagic    = "KNHKMARK"
	markVersion  = 1
	markSlotSize = 64
	markSlot0    = 512
	markSlot1    = 1024
)

// segmentDataStart is the offset of a segment's first frame, after the
// header and the two mark slots.
const segmentDataStart = 1536

// mark is the acknowledged end of one segment.
type mark struct {
	gen uint64 // bumped by every commit to the segment
	// lastSeq is the last acknowledged record of the log as of this mark
	// (the first sequence number of the segment minus one when it holds
	// none yet).
	lastSeq Seq
	// size is the segment's acknowledged size: bytes after it were never
	// acknowledged.
	size int64
	// lastOff is the offset of record lastSeq's frame in this segment, 0
	// when the segment holds no record.
	lastOff int64
}

func (m mark) encode() []byte {
	b := make([]byte, markSlotSize)
	m.encodeTo(b)
	return b
}

// encodeTo writes m into b, which is markSlotSize bytes.
func (m mark) encodeTo(b []byte) {
	copy(b, markMagic)
	binary.LittleEndian.PutUint32(b[8:], markVersion)
	binary.LittleEndian.PutUint64(b[12:], m.gen)
	binary.LittleEndian.PutUint64(b[20:], uint64(m.lastSeq))
	binary.LittleEndian.PutUint64(b[28:], uint64(m.size))
	binary.LittleEndian.PutUint64(b[36:], uint64(m.lastOff))
	binary.LittleEndian.PutUint32(b[60:], crc32.Checksum(b[:60], castagnoli))
}

func decodeMarkSlot(b []byte) (mark, bool) {
	if len(b) < markSlotSize || string(b[:8]) != markMagic ||
		binary.LittleEndian.Uint32(b[8:]) != markVersion ||
		crc32.Checksum(b[:60], castagnoli) != binary.LittleEndian.Uint32(b[60:]) {
		return mark{}, false
	}
	m := mark{
		gen:     binary.LittleEndian.Uint64(b[12:]),
		lastSeq: Seq(binary.LittleEndian.Uint64(b[20:])),
		size:    int64(binary.LittleEndian.Uint64(b[28:])),
		lastOff: int64(binary.LittleEndian.Uint64(b[36:])),
	}
	if m.size < segmentDataStart || (m.lastOff != 0 && (m.lastOff < segmentDataStart || m.lastOff >= m.size)) {
		return mark{}, false
	}
	return m, true
}

// newerMark decodes the mark slots in b, which holds a segment's bytes
// from offset base on, and returns the newer valid one and how many of
// the two were valid.
func newerMark(b []byte, base int) (m mark, valid int) {
	for _, off := range []int{markSlot0 - base, markSlot1 - base} {
		if len(b) < off+markSlotSize {
			continue
		}
		if sm, ok := decodeMarkSlot(b[off:]); ok {
			if valid == 0 || sm.gen > m.gen {
				m = sm
			}
			valid++
		}
	}
	return m, valid
}

// readMark reads the newer valid slot of the mark of the segment at path;
// complete is false when one slot is damaged.
func readMark(r io.ReaderAt, path string) (m mark, complete bool, err error) {
	b := make([]byte, markSlot1+markSlotSize)
	n, err := r.ReadAt(b, 0)
	if err != nil && err != io.EOF {
		return mark{}, false, fmt.Errorf("store: read %s: %w", path, err)
	}
	m, valid := newerMark(b[:n], 0)
	if valid == 0 {
		return mark{}, false, corrupt(path, markSlot0, "both copies of the segment's acknowledged end are damaged")
	}
	return m, valid == 2, nil
}

// loadMark reads the mark of the segment open as f, of size bytes. When
// one slot is damaged the other may be one commit older: either the
// newer write tore in a crash (its commit was never acknowledged) or the
// newer slot rotted after it was acknowledged. The two cannot be told
// apart, so the mark is extended over the whole records that follow it
// instead of dropping them; extended says so.
func loadMark(f *os.File, size int64, maxBody int) (m mark, extended bool, err error) {
	m, complete, err := readMark(f, f.Name())
	if err != nil || complete || size <= m.size {
		return m, false, err
	}
	fr, _, err := openFrameReader(f.Name(), size, maxBody)
	if err != nil {
		return mark{}, false, err
	}
	defer fr.close()
	if _, err := fr.f.Seek(m.size, io.SeekStart); err != nil {
		return mark{}, false, fmt.Errorf("store: %w", err)
	}
	fr.r.Reset(fr.f)
	fr.off = m.size
	for {
		at := fr.off
		v, err := fr.nextView()
		if err != nil || v.Seq != m.lastSeq+1 {
			break
		}
		m.lastSeq, m.lastOff, m.size, extended = v.Seq, at, fr.off, true
	}
	return m, extended, nil
}

// readMarkFile reads the mark of the segment at path, extended as by
// loadMark.
func readMarkFile(path string, maxBody int) (mark, error) {
	f, err := os.Open(path)
	if err != nil {
		return mark{}, fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return mark{}, fmt.Errorf("store: %w", err)
	}
	m, _, err := loadMark(f, fi.Size(), maxBody)
	return m, err
}

// putMark writes m into the slot its generation selects; the caller's
// fdatasync makes it durable.
func putMark(f *os.File, m mark) error {
	var b [markSlotSize]byte // on the stack: no allocation per commit
	m.encodeTo(b[:])
	_, err := f.WriteAt(b[:], m.slot())
	return err
}

// slot is the offset of the mark slot m's generation selects: the two
// slots take turns, so a torn write leaves the other, one commit older.
func (m mark) slot() int64 {
	if m.gen%2 == 1 {
		return markSlot1
	}
	return markSlot0
}

// newSegmentBytes is a new segment: header, both mark slots holding m,
// and padding up to the first frame.
func newSegmentBytes(h segmentHeader, m mark) []byte {
	b := make([]byte, segmentDataStart)
	copy(b, h.encode())
	copy(b[markSlot0:], m.encode())
	copy(b[markSlot1:], m.encode())
	return b
}

// HEAD names the active segment, the one appends go to. It changes only
// when a segment is started (atomically: temporary file, rename), so a
// deleted last segment is told apart from a log that never had it.
const (
	headName    = "HEAD"
	headMagic   = "KNHKHEAD"
	headVersion = 1
	headSize    = 32
)

type head struct {
	gen         uint64
	activeFirst Seq // first sequence number of the active segment
}

func (h head) encode() []byte {
	b := make([]byte, headSize)
	copy(b, headMagic)
	binary.LittleEndian.PutUint32(b[8:], headVersion)
	binary.LittleEndian.PutUint64(b[12:], h.gen)
	binary.LittleEndian.PutUint64(b[20:], uint64(h.activeFirst))
	binary.LittleEndian.PutUint32(b[28:], crc32.Checksum(b[:28], castagnoli))
	return b
}

// errNoHead means the directory has no HEAD file.
var errNoHead = errors.New("no HEAD")

// readHeadFile reads HEAD at path; errNoHead when it does not exist.
func readHeadFile(path string) (head, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return head{}, errNoHead
	}
	if err != nil {
		return head{}, fmt.Errorf("store: %w", err)
	}
	if len(b) != headSize || string(b[:8]) != headMagic {
		return head{}, corrupt(path, 0, "HEAD is damaged (%d bytes, want %d)", len(b), headSize)
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != headVersion {
		return head{}, corrupt(path, 8, "unknown HEAD version %d (this engine reads version %d)", v, headVersion)
	}
	if crc32.Checksum(b[:28], castagnoli) != binary.LittleEndian.Uint32(b[28:]) {
		return head{}, corrupt(path, 28, "HEAD checksum mismatch")
	}
	h := head{gen: binary.LittleEndian.Uint64(b[12:]), activeFirst: Seq(binary.LittleEndian.Uint64(b[20:]))}
	if h.activeFirst == 0 {
		return head{}, corrupt(path, 20, "HEAD names no segment")
	}
	return h, nil
}

// writeHead replaces HEAD in dir atomically.
func writeHead(dir string, h head) error {
	return atomicfile.Write(filepath.Join(dir, headName), h.encode(), 0o644)
}
