// This file implements "knhk history": the events of a case in order.

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/knhk/knhk/compiler/view"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/history"
	"github.com/knhk/knhk/runtime/store"
)

var historyCmd = &command{
	name:      "history",
	usageLine: "knhk history [--data DIR | --server URL [--stale]] [--json] [--detail] CASE",
	short:     "print the events of a case in order",
	long: `History prints the events of case CASE from the data directory (--data,
default ./.knhk) in the order they were logged: the sequence number in
the log, the time (UTC), the kind of event and what it concerns (the
workflow started, the step fired, the signal received, why a call or
the case failed). Nothing is run.

Steps are named as the source writes them (the task called, the signal
waited for, "if", "join all"), and the bookkeeping steps of the compiled
net (assignments, merges, markers) are left out; --detail prints every
event with the internal names of its transitions.

With --json it prints a JSON array of objects with the members seq,
time, kind and, when they apply, step, signal, message and due.

With --server URL it reads the case from a knhk serve. On a node of a
raft cluster that read is linearizable (the leader answers); --stale
reads that node's own copy instead, which answers without the leader
but may miss the latest events (docs/cluster.md).
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		data := fs.String("data", ".knhk", "the data `DIR` holding the case")
		asJSON := fs.Bool("json", false, "print JSON")
		detail := fs.Bool("detail", false, "print every event, with the compiled net's step names")
		srv := serverFlag(fs)
		stale := fs.Bool("stale", false, "with --server on a raft cluster node: read that node's own copy, which may lag the leader (a stale read; docs/cluster.md)")
		return func(e *env, args []string) int {
			if *srv != "" {
				return remoteHistory(e, *srv, *asJSON, *detail, *stale, args)
			}
			if *stale {
				return usageError(e, "--stale reads a cluster node's own copy: give it with --server URL")
			}
			return runHistory(e, *data, *asJSON, *detail, args)
		}
	},
}

// historyEntry is one event as knhk history shows it.
type historyEntry struct {
	Seq     uint64 `json:"seq"`
	Time    string `json:"time"`
	Kind    string `json:"kind"`
	Step    string `json:"step,omitempty"`
	Signal  string `json:"signal,omitempty"`
	Message string `json:"message,omitempty"`
	Due     string `json:"due,omitempty"`
	// Reward is what a learned route's chosen call earned.
	Reward *float64 `json:"reward,omitempty"`
	// To is the case a send step signals; From the mail a signal from
	// another case came in (see send.go).
	To   string `json:"to,omitempty"`
	From string `json:"from,omitempty"`
	// bookkeeping marks the event of a step the user-level view
	// collapses, and user is the view's name of the step when it differs
	// from Step (see userStep); knhk history uses both unless --detail.
	bookkeeping bool
	user        string
}

func runHistory(e *env, data string, asJSON, detail bool, args []string) int {
	if len(args) != 1 {
		return usageError(e, "want exactly one CASE, got %d", len(args))
	}
	d, err := openData(data, false)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	defer d.close()
	id := args[0]
	c := d.caseOf(id)
	out := bufio.NewWriter(e.stdout)
	defer out.Flush()
	n := 0
	err = historyOf(context.Background(), d, c, func(h historyEntry) error {
		if !detail {
			if h.bookkeeping {
				return nil
			}
			if h.user != "" {
				h.Step = h.user
			}
		}
		if asJSON {
			b, err := json.MarshalIndent(h, "  ", "  ")
			if err != nil {
				return err
			}
			if n == 0 {
				out.WriteString("[\n  ")
			} else {
				out.WriteString(",\n  ")
			}
			out.Write(b)
		} else {
			writeHistoryLine(out, h)
		}
		n++
		return nil
	})
	if asJSON && n > 0 {
		out.WriteString("\n]\n")
	}
	if err == nil && n == 0 {
		err = fmt.Errorf("unknown case %s in %s", id, d.path)
	}
	if err != nil {
		out.Flush()
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	return exitOK
}

// writeHistoryLine writes h as one line of text.
func writeHistoryLine(w *bufio.Writer, h historyEntry) {
	line := fmt.Sprintf("%d %s %s", h.Seq, h.Time, h.Kind)
	for _, part := range []string{h.Step, h.Signal} {
		if part != "" {
			line += " " + part
		}
	}
	if h.To != "" {
		line += " to " + h.To
	}
	if h.From != "" {
		line += " from " + h.From
	}
	if h.Due != "" {
		line += " due " + h.Due
	}
	if h.Reward != nil {
		line += " reward " + strconv.FormatFloat(*h.Reward, 'g', -1, 64)
	}
	if h.Message != "" {
		line += ": " + h.Message
	}
	w.WriteString(line)
	w.WriteByte('\n')
}

// historyOf calls fn with c's events described in log order, naming steps
// when the descriptor is known. It reads the log once, holding only the
// case's state, so a case of any length streams.
func historyOf(ctx context.Context, d *dataDir, c *caseLog, fn func(historyEntry) error) error {
	if err := localErased(d.path, c.id); err != nil { // erase.go
		return err
	}
	var s engine.State
	s.ID = c.id
	applying := c.prog != nil
	views := viewCache{}
	err := d.st.ScanViews(ctx, store.Position{}, func(r store.RecordView, _ store.Position) error {
		if string(r.CaseID) != c.id || string(r.Kind) == engine.SnapshotKind {
			return nil
		}
		ev, err := engine.DecodeEvent(r.Payload)
		if err != nil {
			return fmt.Errorf("record %d of case %s: %w", r.Seq, c.id, err)
		}
		h := historyEntry{Seq: uint64(r.Seq), Time: time.Unix(0, ev.Time).UTC().Format(time.RFC3339Nano),
			Kind: ev.Kind.String(), Signal: ev.Name, Message: ev.Message, From: ev.From}
		if ev.Due != 0 {
			h.Due = time.Unix(0, ev.Due).UTC().Format(time.RFC3339Nano)
		}
		if ev.Rewarded {
			r := ev.Reward
			h.Reward = &r
		}
		if applying {
			if ev.Kind == engine.EvStart && int(ev.Trans) < len(c.prog.Nets) && ev.Trans >= 0 {
				h.Step = c.prog.Nets[ev.Trans].Name
			} else if name := c.mach.HookName(&s, ev); name != "" {
				h.Step = name
			} else if t := history.Transition(c.prog, &s, ev); t != nil {
				h.Step = view.StepName(c.prog, t)
				sendHistory(&h, t, ev)
				userStep(&h, views, c.prog, &s, ev)
			} else if v := history.Compensation(&s, ev); v != nil {
				h.Step = "undo " + view.CalleeName(c.prog, v.Call)
			} else if ev.Kind == engine.EvCompRetry && len(s.Comp) > 0 {
				h.Step = "undo " + view.CalleeName(c.prog, s.Comp[len(s.Comp)-1].Call)
			}
			if err := c.mach.Apply(&s, ev); err != nil {
				applying = false // describe the rest without names
			}
		}
		return fn(h)
	})
	return err
}
