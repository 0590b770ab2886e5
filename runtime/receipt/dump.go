// This file implements Dump: a receipt log as JSON lines, for people and
// tools to read. The lines are the v1 log format, so a dump is itself a
// receipt log that Verify and Open read.

package receipt

import (
	"bufio"
	"io"
	"path/filepath"
)

// Dump writes the receipts of data directory data to w, one JSON line
// each, as they are stored: it checks their form, not their chain
// (Verify does that).
func Dump(data string, w io.Writer) error {
	bw := bufio.NewWriter(w)
	var line []byte
	_, err := readReceipts(filepath.Join(data, Dir, LogFile), 0, 0, func(r *Receipt, _ int64) error {
		line = appendLine(line[:0], r)
		_, err := bw.Write(line)
		return err
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}
