// This file implements reading the frames of one segment in order.

package store

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"os"
)

// frameReader streams the frames of one segment between the end of its
// header and limit, the committed size. It keeps the byte offset of every
// frame so that damage is reported where it is.
type frameReader struct {
	path    string
	f       *os.File
	r       *bufio.Reader
	off     int64 // offset of the next frame
	limit   int64
	maxBody int
	buf     []byte
}

func openFrameReader(path string, limit int64, maxBody int) (*frameReader, segmentHeader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, segmentHeader{}, err
	}
	fr := &frameReader{path: path, f: f, r: bufio.NewReaderSize(f, 256<<10), limit: limit, maxBody: maxBody}
	hb := make([]byte, segmentHeaderSize)
	n, err := io.ReadFull(fr.r, hb)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, segmentHeader{}, err
	}
	h, err := decodeSegmentHeader(path, hb[:n])
	if err != nil {
		f.Close()
		return nil, segmentHeader{}, err
	}
	if _, err := fr.r.Discard(segmentDataStart - segmentHeaderSize); err != nil {
		f.Close()
		return nil, segmentHeader{}, corrupt(path, segmentHeaderSize, "segment ends inside its acknowledged-end slots")
	}
	fr.off = segmentDataStart
	return fr, h, nil
}

func (fr *frameReader) close() error { return fr.f.Close() }

// next returns the next record, io.EOF exactly at limit, or one of the
// frame errors (errShortFrame, errBadLength, errChecksum, errMalformedBody)
// for the frame at fr.off, which is left pointing at the damaged frame.
func (fr *frameReader) next() (Record, error) {
	v, err := fr.nextView()
	if err != nil {
		return Record{}, err
	}
	return v.Record(), nil
}

// nextView is next without copying: the view's slices alias fr's buffer
// and are valid until the following call.
func (fr *frameReader) nextView() (RecordView, error) {
	left := fr.limit - fr.off
	if left == 0 {
		return RecordView{}, io.EOF
	}
	if left < frameHeaderSize {
		return RecordView{}, errShortFrame
	}
	hdr, err := fr.r.Peek(frameHeaderSize)
	if err != nil {
		return RecordView{}, fr.readErr(err)
	}
	n, err := frameBodyLen(hdr, fr.maxBody)
	if err != nil {
		return RecordView{}, err
	}
	if left < int64(frameHeaderSize+n) {
		return RecordView{}, errShortFrame
	}
	size := frameHeaderSize + n
	if cap(fr.buf) < size {
		fr.buf = make([]byte, size)
	}
	b := fr.buf[:size]
	if _, err := io.ReadFull(fr.r, b); err != nil {
		return RecordView{}, fr.readErr(err)
	}
	if frameChecksum(b[:4], b[frameHeaderSize:]) != binary.LittleEndian.Uint32(b[4:]) {
		return RecordView{}, errChecksum
	}
	v, err := decodeBodyView(b[frameHeaderSize:])
	if err != nil {
		return RecordView{}, err
	}
	fr.off += int64(size)
	return v, nil
}

// readErr turns an early end of file (the file shrank under us) into a
// short frame and passes real I/O errors through.
func (fr *frameReader) readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errShortFrame
	}
	return err
}

// isFrameError reports whether err describes damaged bytes rather than a
// failed read.
func isFrameError(err error) bool {
	return errors.Is(err, errShortFrame) || errors.Is(err, errBadLength) ||
		errors.Is(err, errChecksum) || errors.Is(err, errMalformedBody)
}

// intactFrameAfter reports the offset within tail of the first intact frame
// that starts after tail[0] and carries a sequence number after lastSeq.
// tail holds the bytes from a damaged frame to the end of the last segment;
// finding an intact record there means the damage is not a torn write.
func intactFrameAfter(tail []byte, lastSeq Seq, maxBody int) (int, bool) {
	for p := 1; p+frameHeaderSize+minBodySize <= len(tail); p++ {
		n, err := frameBodyLen(tail[p:], maxBody)
		if err != nil || p+frameHeaderSize+n > len(tail) {
			continue
		}
		seq := Seq(binary.LittleEndian.Uint64(tail[p+frameHeaderSize:]))
		if seq <= lastSeq || uint64(seq-lastSeq) > uint64(len(tail)) {
			continue
		}
		if _, _, err := decodeFrame(tail[p:], maxBody); err == nil {
			return p, true
		}
	}
	return 0, false
}
