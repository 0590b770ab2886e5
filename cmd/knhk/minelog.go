// This file implements reading a data directory's cases as an event log
// for the mining commands (predict, cases --anomalies).

package main

import (
	"context"
	"fmt"

	"github.com/knhk/knhk/runtime/export"
)

// minedCase is one case of a data directory with its status and trace.
type minedCase struct {
	row   caseRow
	trace export.Trace
}

// traceCollector is an export.Writer that keeps the traces in memory.
type traceCollector struct{ traces []export.Trace }

func (c *traceCollector) Begin(id string, attrs []export.Attr) error {
	c.traces = append(c.traces, export.Trace{Case: id, Attrs: attrs})
	return nil
}

func (c *traceCollector) Event(e export.Event) error {
	t := &c.traces[len(c.traces)-1]
	t.Events = append(t.Events, e)
	return nil
}

func (c *traceCollector) Close() error { return nil }

// mineData reads every readable case of the data directory at path with
// its status and its process-mining trace, as knhk export writes it.
func mineData(path string) ([]minedCase, error) {
	d, err := openData(path, false)
	if err != nil {
		return nil, err
	}
	defer d.close()
	ctx := context.Background()
	rows, _, err := listCases(ctx, d)
	if err != nil {
		return nil, err
	}
	_, byID, err := d.index(ctx)
	if err != nil {
		return nil, err
	}
	var out []minedCase
	for _, r := range rows {
		x := byID[r.ID]
		c := d.caseOf(r.ID)
		if x == nil || c.prog == nil || r.Status == "unreadable" {
			continue
		}
		col := &traceCollector{}
		if err := traceOf(ctx, d, c, x, col); err != nil {
			return nil, fmt.Errorf("case %s: %w", r.ID, err)
		}
		out = append(out, minedCase{row: r, trace: col.traces[0]})
	}
	return out, nil
}
