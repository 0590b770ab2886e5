// This file implements --server (and KNHK_SERVER): the case commands
// talk to a knhk serve through package client instead of opening the
// data directory, and report as they do locally.

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/client"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/server"
)

// serverFlag defines --server on fs, defaulting to $KNHK_SERVER.
func serverFlag(fs *flag.FlagSet) *string {
	return fs.String("server", os.Getenv("KNHK_SERVER"), "talk to the knhk serve at `URL` instead of opening the data directory (default $KNHK_SERVER)")
}

// serverOwns reports, and says, that a knhk serve has the data
// directory open: commands that run cases then refuse it, since the
// server holds its cases in memory.
func serverOwns(e *env, data string) bool {
	if !server.Running(data) {
		return false
	}
	fmt.Fprintf(e.stderr, "knhk: a knhk serve owns %s; talk to it with --server URL (or KNHK_SERVER)\n", data)
	return true
}

// remote returns the client of server url; the bearer token is
// $KNHK_TOKEN, or in $KNHK_TOKEN_FILE or the config file (credentials.go).
func remote(url string) *client.Client {
	if !strings.Contains(url, "://") {
		url = "http://" + url
	}
	var opts []client.Option
	tok, err := bearerToken()
	if err != nil {
		fmt.Fprintf(os.Stderr, "knhk: the bearer token file: %v\n", err)
	}
	if tok != "" {
		opts = append(opts, client.WithToken(tok))
	}
	// Every request carries a fresh nonce, so that a captured one cannot
	// be replayed against serve --tenants (credentials.go).
	opts = append(opts, client.WithHTTPClient(nonceClient()))
	return client.New(strings.TrimRight(url, "/"), opts...)
}

// remoteDeployError reports a deploy's error; a source's diagnostics
// are printed as knhk check prints them (with the source line and a
// caret), from the local file they were reported against.
func remoteDeployError(e *env, name string, src []byte, err error) int {
	if bi := client.BadInput(err); bi != nil && len(bi.Diagnostics) > 0 {
		if ds, ok := localDiagnostics(name, src, bi.Diagnostics); ok {
			printDiagnostics(e, ds)
			return exitUser
		}
	}
	return remoteError(e, err)
}

// localDiagnostics rebuilds the server's diagnostics of file name over
// its source src; ok is false when one names another file.
func localDiagnostics(name string, src []byte, in []*knhkv1.Diagnostic) (source.Diagnostics, bool) {
	f := source.NewFile(name, src)
	pos := func(line, col int32) source.Pos {
		return min(f.LineStart(int(line))+source.Pos(max(col-1, 0)), source.Pos(len(src)))
	}
	var out source.Diagnostics
	for _, d := range in {
		if d.File != name {
			return nil, false
		}
		x := &source.Diagnostic{File: f, Span: source.Span{Start: pos(d.Line, d.Column), End: pos(d.EndLine, d.EndColumn)}, Message: d.Message}
		switch d.Severity {
		case "warning":
			x.Severity = source.Warning
		case "info":
			x.Severity = source.Info
		}
		var n int
		if _, err := fmt.Sscanf(d.Code, "K%d", &n); err == nil {
			x.Code = source.Code(n)
		}
		out = append(out, x)
	}
	return out, true
}

// remoteError reports err as the CLI reports the same mistake locally:
// the server's message, and a source's diagnostics one per line.
func remoteError(e *env, err error) int {
	if bi := client.BadInput(err); bi != nil && len(bi.Diagnostics) > 0 {
		for _, d := range bi.Diagnostics {
			if d.File != "" {
				fmt.Fprintf(e.stderr, "%s:%d:%d: %s [%s]\n", d.File, d.Line, d.Column, d.Message, d.Code)
			} else {
				fmt.Fprintf(e.stderr, "%s [%s]\n", d.Message, d.Code)
			}
		}
		return exitUser
	}
	var ce *connect.Error
	if errors.As(err, &ce) {
		switch ce.Code() {
		case connect.CodeInternal, connect.CodeUnknown:
			fmt.Fprintf(e.stderr, "knhk: server: %s\n", ce.Message())
			if ce.Code() == connect.CodeInternal {
				return exitInternal
			}
		case connect.CodeUnavailable:
			fmt.Fprintf(e.stderr, "knhk: server unavailable: %s\n", ce.Message())
		default:
			fmt.Fprintf(e.stderr, "knhk: %s\n", ce.Message())
		}
		return exitUser
	}
	fmt.Fprintf(e.stderr, "knhk: %v\n", err)
	return exitUser
}

// reportRemote reports where a case stands as knhk run does.
func reportRemote(e *env, s *knhkv1.CaseSummary) int {
	switch s.Status {
	case "completed":
		if s.ResultJson != "" {
			fmt.Fprintf(e.stdout, "%s\n", s.ResultJson)
		}
		return exitOK
	case "failed", "failing", "compensation-failed":
		fmt.Fprintf(e.stderr, "knhk: %s\n", s.Error)
		return exitUser
	case "cancelled":
		fmt.Fprintf(e.stderr, "knhk: case %s was cancelled\n", s.CaseId)
		return exitUser
	}
	if len(s.Waiting) > 0 {
		fmt.Fprintf(e.stderr, "case %s is waiting for signal %s\n", s.CaseId, strings.Join(s.Waiting, " or "))
		return exitOK
	}
	fmt.Fprintf(e.stderr, "knhk: case %s stopped without finishing or waiting for a signal\n", s.CaseId)
	return exitInternal
}

func remoteRun(e *env, url string, o *runOptions, args []string) int {
	if len(args) != 1 {
		return usageError(e, "want exactly one FILE, got %d", len(args))
	}
	if o.input != "" && o.inputJSON != "" {
		return usageError(e, "give the input with --input or --input-json, not both")
	}
	src, err := readSource(args[0])
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", unwrapPathError(err))
		return exitUser
	}
	input, ok := readInput(e, o)
	if !ok {
		return exitUser
	}
	ctx, stop := stopContext()
	defer stop()
	c := remote(url)
	// FILE.sig (knhk sign FILE) goes with the deploy, for a server
	// started with --trust.
	sigs, err := readSmall(sigPath(args[0]))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	dep, err := c.DeploySigned(ctx, args[0], src, sigs)
	if err != nil {
		return remoteDeployError(e, args[0], src, err)
	}
	wf := o.workflow
	if wf == "" {
		switch len(dep.Workflows) {
		case 0:
			fmt.Fprintf(e.stderr, "knhk: the file declares no workflow\n")
			return exitUser
		case 1:
			wf = dep.Workflows[0]
		default:
			fmt.Fprintf(e.stderr, "knhk: the file declares several workflows (%s); pick one with --workflow\n", strings.Join(dep.Workflows, ", "))
			return exitUser
		}
	}
	start, err := c.Start(ctx, &knhkv1.StartCaseRequest{Workflow: wf, Program: dep.Hash, InputJson: string(input)})
	if err != nil {
		return remoteError(e, err)
	}
	fmt.Fprintf(e.stderr, "case %s\n", start.CaseId)
	s, err := c.WaitIdle(ctx, start.CaseId)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(e.stderr, "knhk: interrupted; case %s runs on in the server\n", start.CaseId)
			return exitUser
		}
		return remoteError(e, err)
	}
	// A failure at a position of the file run was given is printed as
	// knhk run prints it locally: with the source line and a caret.
	if at := s.ErrorAt; at != nil && s.Status != "completed" {
		at.Message = s.Error
		if ds, ok := localDiagnostics(args[0], src, []*knhkv1.Diagnostic{at}); ok {
			printDiagnostics(e, ds)
			return exitUser
		}
	}
	return reportRemote(e, s)
}

func remoteSignal(e *env, url string, args []string) int {
	if len(args) < 2 || len(args) > 3 {
		return usageError(e, "want CASE NAME [JSON], got %d arguments", len(args))
	}
	var payload string
	if len(args) == 3 {
		b, err := inputText("the payload", []byte(args[2]))
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
			return exitUser
		}
		payload = string(b)
	}
	ctx, stop := stopContext()
	defer stop()
	c := remote(url)
	if _, err := c.Signal(ctx, args[0], args[1], payload); err != nil {
		return remoteError(e, err)
	}
	s, err := c.WaitIdle(ctx, args[0])
	if err != nil {
		return remoteError(e, err)
	}
	return reportRemote(e, s)
}

func remoteResume(e *env, url string, args []string) int {
	if len(args) != 1 {
		return usageError(e, "want exactly one CASE, got %d", len(args))
	}
	ctx, stop := stopContext()
	defer stop()
	c := remote(url)
	s, err := c.Get(ctx, args[0])
	if err != nil {
		return remoteError(e, err)
	}
	switch s.Status {
	case "completed", "failed", "cancelled":
		fmt.Fprintf(e.stderr, "knhk: case %s has ended (%s)\n", s.CaseId, s.Status)
		return exitUser
	}
	// The server runs its cases itself; resume waits for where knhk
	// resume would stop.
	if s, err = c.WaitIdle(ctx, args[0]); err != nil {
		return remoteError(e, err)
	}
	return reportRemote(e, s)
}

func remoteQuery(e *env, url string, args []string) int {
	if len(args) < 1 || len(args) > 2 {
		return usageError(e, "want CASE [NAME], got %d arguments", len(args))
	}
	name := ""
	if len(args) == 2 {
		name = args[1]
	}
	out, err := remote(url).Query(context.Background(), args[0], name)
	if err != nil {
		return remoteError(e, err)
	}
	fmt.Fprintf(e.stdout, "%s\n", out)
	return exitOK
}

func remoteCases(e *env, url string, asJSON bool, args []string) int {
	if len(args) != 0 {
		return usageError(e, "want no arguments, got %d", len(args))
	}
	api := remote(url).API()
	type row struct {
		ID         string   `json:"id"`
		Status     string   `json:"status"`
		Workflow   string   `json:"workflow"`
		Started    string   `json:"started,omitempty"`
		Descriptor string   `json:"descriptor"`
		Key        string   `json:"business_key,omitempty"`
		Waiting    []string `json:"waiting,omitempty"`
	}
	var rows []row
	token := ""
	for {
		r, err := api.ListCases(context.Background(), connect.NewRequest(&knhkv1.ListCasesRequest{PageSize: 1000, PageToken: token}))
		if err != nil {
			return remoteError(e, err)
		}
		for _, c := range r.Msg.Cases {
			x := row{ID: c.CaseId, Status: c.Status, Workflow: c.Workflow, Descriptor: c.Program, Key: c.BusinessKey, Waiting: c.Waiting}
			if x.Status == "running" && c.Idle {
				x.Status = "waiting"
			}
			if c.StartUnixNano != 0 {
				x.Started = time.Unix(0, c.StartUnixNano).UTC().Format(time.RFC3339)
			}
			rows = append(rows, x)
		}
		if token = r.Msg.NextPageToken; token == "" {
			break
		}
	}
	if asJSON {
		b, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: internal error: %v\n", err)
			return exitInternal
		}
		fmt.Fprintf(e.stdout, "%s\n", b)
		return exitOK
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "CASE\tSTATUS\tWORKFLOW\tSTARTED\tDESCRIPTOR\n")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Status, r.Workflow, r.Started, r.Descriptor)
	}
	tw.Flush()
	return exitOK
}

// remoteHistory prints a case's history read from the server at url.
// With stale, a raft cluster node answers from its own copy instead of
// the leader's (server.ConsistencyHeader): faster and available without
// a leader, but it may miss the latest committed events; a single
// knhk serve ignores it, its reads being its own.
func remoteHistory(e *env, url string, asJSON, detail, stale bool, args []string) int {
	if len(args) != 1 {
		return usageError(e, "want exactly one CASE, got %d", len(args))
	}
	api := remote(url).API()
	out := bufio.NewWriter(e.stdout)
	defer out.Flush()
	type entry struct {
		Seq    int64  `json:"seq"`
		Time   string `json:"time"`
		Kind   string `json:"kind"`
		Step   string `json:"step,omitempty"`
		Detail string `json:"message,omitempty"`
	}
	var all []entry
	var from int64
	for {
		req := connect.NewRequest(&knhkv1.GetHistoryRequest{CaseId: args[0], From: from, PageSize: 1000, Detail: detail})
		if stale {
			req.Header().Set(server.ConsistencyHeader, "stale")
		}
		r, err := api.GetHistory(context.Background(), req)
		if err != nil {
			out.Flush()
			return remoteError(e, err)
		}
		for _, h := range r.Msg.Entries {
			x := entry{Seq: h.Seq, Time: time.Unix(0, h.TimeUnixNano).UTC().Format(time.RFC3339Nano), Kind: h.Kind, Step: h.Step, Detail: h.Detail}
			if asJSON {
				all = append(all, x)
				continue
			}
			line := fmt.Sprintf("%d %s %s", x.Seq, x.Time, x.Kind)
			for _, part := range []string{x.Step, x.Detail} {
				if part != "" {
					line += " " + part
				}
			}
			fmt.Fprintln(out, line)
		}
		if from = r.Msg.Next; from == 0 {
			break
		}
	}
	if asJSON {
		b, err := json.MarshalIndent(all, "", "  ")
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: internal error: %v\n", err)
			return exitInternal
		}
		fmt.Fprintf(out, "%s\n", b)
	}
	return exitOK
}

func remoteExport(e *env, url string, o *exportOptions, args []string) int {
	if o.xes == o.csv {
		return usageError(e, "give exactly one of --xes and --csv")
	}
	format := "xes"
	if o.csv {
		format = "csv"
	}
	r, err := remote(url).API().Export(context.Background(), connect.NewRequest(&knhkv1.ExportRequest{CaseIds: args, Format: format}))
	if err != nil {
		return remoteError(e, err)
	}
	if o.out == "" {
		e.stdout.Write(r.Msg.Data)
		return exitOK
	}
	if err := os.WriteFile(o.out, r.Msg.Data, 0o644); err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	return exitOK
}
