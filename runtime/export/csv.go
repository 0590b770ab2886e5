// This file implements CSV writing and reading: one row per event.

package export

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"time"
)

// CSVHeader is the header row of [WriteCSV]. The column names are those
// process-mining tools map by default (case id, activity, timestamp,
// resource), with the lifecycle transition beside them.
var CSVHeader = []string{"case_id", "activity", "lifecycle", "timestamp", "resource"}

// WriteCSV writes l as CSV with [CSVHeader], timestamps in RFC 3339 with
// nanoseconds, UTC. Trace attributes are not written.
func WriteCSV(w io.Writer, l *Log) error { return writeAll(NewCSVWriter(w), l) }

// ReadCSV reads CSV written by [WriteCSV]: the header must be CSVHeader.
// Rows of one case form one trace, in the order the case first appears.
func ReadCSV(r io.Reader) (*Log, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(CSVHeader)
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("bad csv: %v", err)
	}
	if !slices.Equal(head, CSVHeader) {
		return nil, fmt.Errorf("bad csv: header is %q, want %q", head, CSVHeader)
	}
	l := &Log{}
	index := map[string]int{}
	for line := 2; ; line++ {
		row, err := cr.Read()
		if err == io.EOF {
			return l, nil
		}
		if err != nil {
			return nil, fmt.Errorf("bad csv: %v", err)
		}
		tm, err := time.Parse(time.RFC3339Nano, row[3])
		if err != nil {
			return nil, fmt.Errorf("bad csv: line %d: bad timestamp %q", line, row[3])
		}
		i, ok := index[row[0]]
		if !ok {
			i = len(l.Traces)
			index[row[0]] = i
			l.Traces = append(l.Traces, Trace{Case: row[0]})
		}
		l.Traces[i].Events = append(l.Traces[i].Events, Event{Activity: row[1], Lifecycle: row[2], Time: tm, Resource: row[4]})
	}
}
