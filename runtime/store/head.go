// This file implements HEAD, the durable record of what the log has
// acknowledged.

package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
)

// HEAD holds two copies ("slots") of the acknowledged end of the log, in
// separate 512-byte sectors. A commit writes the slot its new generation
// selects and fdatasyncs it after the log's own fdatasync, and only then
// acknowledges the batch; a torn slot write leaves the other slot, one
// generation older and still valid, so the mark never goes backwards past
// a record that was acknowledged.
const (
	headName     = "HEAD"
	headMagic    = "KNHKHEAD"
	headVersion  = 1
	headSlotSize = 64
	headStride   = 512
	headFileSize = 2 * headStride
)

// head is the acknowledged end of the log.
type head struct {
	gen uint64 // generation: bumped by every write
	// lastSeq is the last acknowledged record, 0 when none.
	lastSeq Seq
	// activeFirst and activeSize name the segment appends go to and its
	// acknowledged size; bytes after activeSize, and segments after the
	// active one, were never acknowledged.
	activeFirst Seq
	activeSize  int64
	// lastSegFirst and lastOff locate the frame of record lastSeq (0, 0
	// when lastSeq is 0), so that Open checks the last acknowledged record
	// without reading the log.
	lastSegFirst Seq
	lastOff      int64
}

func (h head) encode() []byte {
	b := make([]byte, headSlotSize)
	copy(b, headMagic)
	binary.LittleEndian.PutUint32(b[8:], headVersion)
	binary.LittleEndian.PutUint64(b[12:], h.gen)
	binary.LittleEndian.PutUint64(b[20:], uint64(h.lastSeq))
	binary.LittleEndian.PutUint64(b[28:], uint64(h.activeFirst))
	binary.LittleEndian.PutUint64(b[36:], uint64(h.activeSize))
	binary.LittleEndian.PutUint64(b[44:], uint64(h.lastSegFirst))
	binary.LittleEndian.PutUint64(b[52:], uint64(h.lastOff))
	binary.LittleEndian.PutUint32(b[60:], crc32.Checksum(b[:60], castagnoli))
	return b
}

// decodeHeadSlot returns the slot in b and whether it is valid.
func decodeHeadSlot(b []byte) (head, bool) {
	if len(b) < headSlotSize || string(b[:8]) != headMagic ||
		binary.LittleEndian.Uint32(b[8:]) != headVersion ||
		crc32.Checksum(b[:60], castagnoli) != binary.LittleEndian.Uint32(b[60:]) {
		return head{}, false
	}
	h := head{
		gen:          binary.LittleEndian.Uint64(b[12:]),
		lastSeq:      Seq(binary.LittleEndian.Uint64(b[20:])),
		activeFirst:  Seq(binary.LittleEndian.Uint64(b[28:])),
		activeSize:   int64(binary.LittleEndian.Uint64(b[36:])),
		lastSegFirst: Seq(binary.LittleEndian.Uint64(b[44:])),
		lastOff:      int64(binary.LittleEndian.Uint64(b[52:])),
	}
	if h.activeFirst == 0 || h.activeSize < segmentHeaderSize || (h.lastSeq == 0) != (h.lastSegFirst == 0) {
		return head{}, false
	}
	return h, true
}

// encodeHeadFile is a whole HEAD file holding h in both slots.
func encodeHeadFile(h head) []byte {
	b := make([]byte, headFileSize)
	copy(b, h.encode())
	copy(b[headStride:], h.encode())
	return b
}

// errNoHead means the directory has no HEAD file.
var errNoHead = errors.New("no HEAD")

// readHead reads the newer valid slot of HEAD from r, whose path is path.
func readHead(r io.ReaderAt, path string) (head, error) {
	b := make([]byte, headFileSize)
	n, err := r.ReadAt(b, 0)
	if err != nil && err != io.EOF {
		return head{}, fmt.Errorf("store: read %s: %w", path, err)
	}
	b = b[:n]
	var best head
	found := false
	for i := range 2 {
		if len(b) < i*headStride+headSlotSize {
			continue
		}
		if h, ok := decodeHeadSlot(b[i*headStride:]); ok && (!found || h.gen > best.gen) {
			best, found = h, true
		}
	}
	if !found {
		return head{}, corrupt(path, 0, "both copies of the acknowledged end of the log are damaged")
	}
	return best, nil
}

// readHeadFile reads HEAD at path; errNoHead when it does not exist.
func readHeadFile(path string) (head, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return head{}, errNoHead
	}
	if err != nil {
		return head{}, fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	return readHead(f, path)
}

// writeHead durably writes h into the slot its generation selects.
func writeHead(f *os.File, h head) error {
	if _, err := f.WriteAt(h.encode(), int64(h.gen%2)*headStride); err != nil {
		return err
	}
	return syncData(f)
}
