// This file implements the CSV reader: one row per event, columns found
// by their header names.

package eventlog

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/knhk/knhk/runtime/export"
)

// Column names recognised in a CSV header, compared case-insensitively
// with spaces, dashes and underscores removed. The first names are those
// of [export.CSVHeader]; the rest are what pm4py, Disco and the logs of
// Tax et al. write.
var (
	caseCols     = []string{"caseid", "case", "case:conceptname", "caseconceptname", "traceid"}
	activityCols = []string{"activity", "activityid", "conceptname", "activityname", "event", "task"}
	timeCols     = []string{"timestamp", "completetimestamp", "time:timestamp", "timetimestamp", "time", "endtime", "completetime"}
	lifeCols     = []string{"lifecycle", "lifecycle:transition", "lifecycletransition", "transition"}
	resourceCols = []string{"resource", "org:resource", "orgresource", "user"}
)

// Columns says which CSV column holds which field; -1 for none.
type Columns struct {
	Case, Activity, Time, Lifecycle, Resource int
}

// FindColumns finds the columns in a header row. Case, activity and
// timestamp are required; the error lists the header when one is missing.
func FindColumns(head []string) (Columns, error) {
	norm := make([]string, len(head))
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		norm[i] = strings.NewReplacer(" ", "", "_", "", "-", "").Replace(h)
	}
	find := func(names []string) int {
		for _, n := range names {
			for i, h := range norm {
				if h == n {
					return i
				}
			}
		}
		return -1
	}
	c := Columns{find(caseCols), find(activityCols), find(timeCols), find(lifeCols), find(resourceCols)}
	var missing []string
	if c.Case < 0 {
		missing = append(missing, "case id")
	}
	if c.Activity < 0 {
		missing = append(missing, "activity")
	}
	if c.Time < 0 {
		missing = append(missing, "timestamp")
	}
	if missing != nil {
		return c, fmt.Errorf("no %s column in header %q (want names such as %s, %s, %s)",
			strings.Join(missing, ", "), head, export.CSVHeader[0], export.CSVHeader[1], export.CSVHeader[3])
	}
	return c, nil
}

// ReadCSV reads a CSV event log with a header row (see [FindColumns]).
// Rows of one case form one trace, traces in the order their cases first
// appear and events in row order. file names the input in errors.
func ReadCSV(r io.Reader, file string) (*export.Log, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, &Error{File: file, Line: 1, Msg: "empty file: want a header row and events", Err: ErrEmpty}
	}
	if err != nil {
		return nil, csvErr(file, err)
	}
	cols, err := FindColumns(head)
	if err != nil {
		return nil, &Error{File: file, Line: 1, Msg: err.Error()}
	}
	cr.FieldsPerRecord = len(head)
	l := &export.Log{}
	index := map[string]int{}
	for {
		row, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvErr(file, err)
		}
		line, _ := cr.FieldPos(0)
		id, act := row[cols.Case], row[cols.Activity]
		if id == "" {
			col := fieldCol(cr, cols.Case)
			return nil, &Error{File: file, Line: line, Col: col, Msg: "empty case id"}
		}
		if act == "" {
			return nil, &Error{File: file, Line: line, Col: fieldCol(cr, cols.Activity), Msg: "empty activity"}
		}
		tm, err := ParseTime(row[cols.Time])
		if err != nil {
			return nil, &Error{File: file, Line: line, Col: fieldCol(cr, cols.Time), Msg: fmt.Sprintf("bad timestamp %q", row[cols.Time]), Err: err}
		}
		ev := export.Event{Activity: act, Time: tm}
		if cols.Lifecycle >= 0 {
			ev.Lifecycle = row[cols.Lifecycle]
		}
		if cols.Resource >= 0 {
			ev.Resource = row[cols.Resource]
		}
		i, ok := index[id]
		if !ok {
			i = len(l.Traces)
			index[id] = i
			l.Traces = append(l.Traces, export.Trace{Case: id})
		}
		l.Traces[i].Events = append(l.Traces[i].Events, ev)
	}
	if len(l.Traces) == 0 {
		return nil, &Error{File: file, Line: 2, Msg: "no events after the header", Err: ErrEmpty}
	}
	return l, nil
}

func fieldCol(cr *csv.Reader, field int) int {
	_, col := cr.FieldPos(field)
	return col
}

func csvErr(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{File: file, Line: pe.Line, Col: pe.Column, Msg: "malformed CSV: " + pe.Err.Error(), Err: err}
	}
	return &Error{File: file, Msg: err.Error(), Err: err}
}
