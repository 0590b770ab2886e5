// This file implements reading a log file whatever its format.

package eventlog

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/knhk/knhk/runtime/export"
)

// ReadFile reads the event log in path: XES or CSV, either possibly
// gzip-compressed. The format is taken from the name (.xes, .csv, with
// .gz after it) and, for other names, from the first bytes (XML starts
// with '<').
func ReadFile(path string) (*export.Log, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path)
}

// Read reads an event log from r as [ReadFile] does; name stands for the
// file name in format detection and errors.
func Read(r io.Reader, name string) (*export.Log, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if head, _ := br.Peek(2); bytes.Equal(head, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, &Error{File: name, Msg: fmt.Sprintf("bad gzip: %v", err), Err: err}
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	base := strings.TrimSuffix(strings.ToLower(filepath.Base(name)), ".gz")
	switch {
	case strings.HasSuffix(base, ".xes"):
		return ReadXES(br, name)
	case strings.HasSuffix(base, ".csv"):
		return ReadCSV(br, name)
	}
	head, _ := br.Peek(512)
	if t := bytes.TrimLeft(head, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '<' {
		return ReadXES(br, name)
	}
	return ReadCSV(br, name)
}

// ReadXES reads a whole XES document with an [XESReader].
func ReadXES(r io.Reader, file string) (*export.Log, error) {
	x := NewXESReader(r, file)
	l := &export.Log{}
	for {
		t, err := x.Next()
		if err == io.EOF {
			return l, nil
		}
		if err != nil {
			return nil, err
		}
		l.Traces = append(l.Traces, *t)
	}
}
