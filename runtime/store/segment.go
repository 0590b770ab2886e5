// This file implements log segments: names, headers and creation.

package store

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/knhk/knhk/internal/atomicfile"
)

const (
	segmentMagic      = "KNHKLOG\n"
	segmentVersion    = 2
	segmentHeaderSize = 40
	segmentExt        = ".log"
	tmpExt            = atomicfile.TempSuffix
)

// segmentHeader is the fixed header at the start of every segment. The
// previous segment's first sequence number and final size let Open check
// sealed segments without reading them.
type segmentHeader struct {
	firstSeq     Seq
	prevFirstSeq Seq   // 0 for the first segment ever written
	prevSize     int64 // final size of the previous segment, 0 if none
}

func (h segmentHeader) encode() []byte {
	b := make([]byte, segmentHeaderSize)
	copy(b, segmentMagic)
	binary.LittleEndian.PutUint32(b[8:], segmentVersion)
	binary.LittleEndian.PutUint64(b[12:], uint64(h.firstSeq))
	binary.LittleEndian.PutUint64(b[20:], uint64(h.prevFirstSeq))
	binary.LittleEndian.PutUint64(b[28:], uint64(h.prevSize))
	binary.LittleEndian.PutUint32(b[36:], crc32.Checksum(b[:36], castagnoli))
	return b
}

// decodeSegmentHeader checks magic, version and checksum in that order, so
// a segment from a newer engine is reported as an unknown version rather
// than as damage.
func decodeSegmentHeader(path string, b []byte) (segmentHeader, error) {
	if len(b) < segmentHeaderSize {
		return segmentHeader{}, corrupt(path, int64(len(b)), "segment header truncated: %d of %d bytes", len(b), segmentHeaderSize)
	}
	if string(b[:8]) != segmentMagic {
		return segmentHeader{}, corrupt(path, 0, "not a log segment (bad magic)")
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != segmentVersion {
		return segmentHeader{}, corrupt(path, 8, "unknown segment version %d (this engine reads version %d)", v, segmentVersion)
	}
	if crc32.Checksum(b[:36], castagnoli) != binary.LittleEndian.Uint32(b[36:]) {
		return segmentHeader{}, corrupt(path, 36, "segment header checksum mismatch")
	}
	h := segmentHeader{
		firstSeq:     Seq(binary.LittleEndian.Uint64(b[12:])),
		prevFirstSeq: Seq(binary.LittleEndian.Uint64(b[20:])),
		prevSize:     int64(binary.LittleEndian.Uint64(b[28:])),
	}
	if h.firstSeq == 0 {
		return segmentHeader{}, corrupt(path, 12, "segment header has first sequence number 0")
	}
	return h, nil
}

func segmentName(first Seq) string { return fmt.Sprintf("%020d%s", uint64(first), segmentExt) }

// parseSeqName parses "<20 digits><ext>" after prefix.
func parseSeqName(name, prefix, ext string) (Seq, bool) {
	if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, ext) {
		return 0, false
	}
	digits := name[len(prefix) : len(name)-len(ext)]
	if len(digits) != 20 {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, false
	}
	return Seq(n), true
}

// segment is one log file as the store knows it.
type segment struct {
	path     string
	header   segmentHeader
	size     int64 // committed size: bytes known to hold whole, synced frames
	lastSeq  Seq   // last sequence number in it; header.firstSeq-1 if empty
	verified bool  // whether Open read every frame
}

// dirListing is what Open finds in a data directory.
type dirListing struct {
	segments  []string // segment file names, by first sequence number
	snapshots []string // snapshot file names, by sequence number
	temps     []string // leftovers of interrupted atomic writes
}

func listDir(dir string) (dirListing, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return dirListing{}, err
	}
	var l dirListing
	for _, e := range ents {
		name := e.Name()
		switch {
		case strings.HasSuffix(name, tmpExt):
			l.temps = append(l.temps, name)
		case !e.Type().IsRegular():
		case strings.HasSuffix(name, segmentExt):
			if _, ok := parseSeqName(name, "", segmentExt); ok {
				l.segments = append(l.segments, name)
			}
		case strings.HasSuffix(name, snapshotExt):
			if _, ok := parseSeqName(name, snapshotPrefix, snapshotExt); ok {
				l.snapshots = append(l.snapshots, name)
			}
		}
	}
	// Zero-padded names sort in numeric order.
	sort.Strings(l.segments)
	sort.Strings(l.snapshots)
	return l, nil
}

// readAt reads the n bytes of path at off.
func readAt(path string, off, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	k, err := f.ReadAt(b, off)
	if err != nil && err != io.EOF {
		return nil, err
	}
	return b[:k], nil
}
