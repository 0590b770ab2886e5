// This file implements "knhk cluster": the membership and case calls of
// a cluster started with knhk serve --node, over its HTTP API.

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/server"
)

var clusterCmd = &command{
	name:      "cluster",
	usageLine: "knhk cluster [--server URL] [--json] status | add ID RAFT-ADDR | remove ID | start ID --workflow W [--input JSON] | signal ID NAME [--payload JSON] | cancel ID | get ID [--stale] | history ID [--stale] [--detail] | cases | bft-init --dir D",
	short:     "manage a cluster of knhk serve --node and its cases",
	long: `Cluster talks to any node of a cluster started with knhk serve --node
(--server URL, default $KNHK_SERVER or http://127.0.0.1:7233). A node
that does not lead forwards the call to the leader.

  status              the nodes, who leads, who votes, applied indexes,
                      and a warning when one region holds a majority of
                      the voters
  add ID RAFT-ADDR    add a node that was started without --join, as a
                      non-voter (--labels K=V,... and --api URL describe it);
                      the leader promotes it to voter once it caught up
  remove ID           take a node out; its id is never accepted again
  start ID            start case ID of --workflow with --input JSON
                      (and business key --key K, bound to it for good)
  signal ID NAME      deliver signal NAME with --payload JSON
  cancel ID           cancel case ID
  get ID              the case, read on the leader (linearizable); with
                      --stale, the node's own copy and how stale it is
  history ID          the case's history (--detail: every event), read
                      on the leader, or the node's own copy with --stale
  cases               the cases of the node's copy
  bft-init            write the homes of --validators CometBFT validators
                      under --dir (p2p on --host, ports from --base-port),
                      for knhk serve --bft HOME [--drive] FILE

Writes carry a request id (--request-id, or a random one): when a node
answers that the outcome is unknown (leadership was lost), the call is
retried with the same id and the cluster applies it at most once.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		o := &clusterOptions{}
		fs.StringVar(&o.server, "server", os.Getenv("KNHK_SERVER"), "a node's API `URL` (default $KNHK_SERVER, else http://127.0.0.1:7233)")
		fs.BoolVar(&o.json, "json", false, "print the answer as JSON")
		fs.StringVar(&o.workflow, "workflow", "", "start: the `WORKFLOW`")
		fs.StringVar(&o.input, "input", "", "start: the input as `JSON`")
		fs.StringVar(&o.payload, "payload", "", "signal: the payload as `JSON`")
		fs.StringVar(&o.reqID, "request-id", "", "make the call idempotent under `ID` (default: a random one)")
		fs.BoolVar(&o.stale, "stale", false, "get, history: read the node's own copy, which may lag")
		fs.BoolVar(&o.detail, "detail", false, "history: every event, bookkeeping too")
		fs.StringVar(&o.key, "key", "", "start: the case's business `KEY`")
		fs.StringVar(&o.labels, "labels", "", "add: the node's labels `K=V,...`")
		fs.StringVar(&o.api, "api", "", "add: the node's API `URL`")
		fs.StringVar(&o.dir, "dir", "", "bft-init: write the validators' homes under `DIR`")
		fs.IntVar(&o.validators, "validators", 4, "bft-init: how many validators")
		fs.StringVar(&o.host, "host", "127.0.0.1", "bft-init: the `HOST` the validators' p2p listens on")
		fs.IntVar(&o.basePort, "base-port", 26656, "bft-init: validator i listens on `PORT`+i")
		fs.StringVar(&o.licenceTrust, "license-trust", "", "bft-init: the licence issuers' public key `FILE` (or a directory of .pub files) the chain trusts, for knhk serve --bft --license")
		fs.StringVar(&o.deployTrust, "trust", "", "bft-init: the public key `FILE` (or a directory of .pub files) a deploy to the chain must be signed by; every validator checks it")
		return func(e *env, args []string) int { return runCluster(e, o, args) }
	},
}

type clusterOptions struct {
	server, workflow, input, payload, reqID, labels, api string
	key, licenceTrust, deployTrust                       string
	json, stale, detail                                  bool
	dir, host                                            string
	validators, basePort                                 int
}

func runCluster(e *env, o *clusterOptions, args []string) int {
	if len(args) == 0 {
		return usageError(e, "name a subcommand: status, add, remove, start, signal, cancel, get, history, cases or bft-init")
	}
	if o.server == "" {
		o.server = "http://127.0.0.1:7233"
	}
	want := map[string]int{"status": 0, "cases": 0, "add": 2, "remove": 1, "start": 1, "signal": 2, "cancel": 1, "get": 1, "history": 1, "bft-init": 0}
	n, ok := want[args[0]]
	if !ok {
		return usageError(e, "unknown subcommand %q: want status, add, remove, start, signal, cancel, get, history, cases or bft-init", args[0])
	}
	if len(args)-1 != n {
		return usageError(e, "%s wants %d arguments, got %d", args[0], n, len(args)-1)
	}
	if o.reqID == "" {
		var b [8]byte
		rand.Read(b[:])
		o.reqID = hex.EncodeToString(b[:])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	switch args[0] {
	case "status":
		return clusterStatus(ctx, e, o)
	case "bft-init":
		return clusterBFTInit(e, o)
	case "cases":
		return clusterShow(ctx, e, o, http.MethodGet, "/cluster/v1/cases", nil)
	case "add":
		return clusterAdd(ctx, e, o, args[1], args[2])
	case "remove":
		return clusterShow(ctx, e, o, http.MethodDelete, "/cluster/v1/members/"+args[1], nil)
	case "start":
		if o.workflow == "" {
			return usageError(e, "start needs --workflow")
		}
		req := server.ClusterStartRequest{ID: args[1], Workflow: o.workflow, RequestID: o.reqID, Key: o.key}
		if o.input != "" {
			if !json.Valid([]byte(o.input)) {
				return usageError(e, "--input is not JSON: %s", o.input)
			}
			req.Input = json.RawMessage(o.input)
		}
		return clusterShow(ctx, e, o, http.MethodPost, "/cluster/v1/cases", req)
	case "signal":
		req := server.ClusterSignalRequest{Name: args[2], RequestID: o.reqID}
		if o.payload != "" {
			if !json.Valid([]byte(o.payload)) {
				return usageError(e, "--payload is not JSON: %s", o.payload)
			}
			req.Payload = json.RawMessage(o.payload)
		}
		return clusterShow(ctx, e, o, http.MethodPost, "/cluster/v1/cases/"+args[1]+"/signal", req)
	case "cancel":
		return clusterShow(ctx, e, o, http.MethodPost, "/cluster/v1/cases/"+args[1]+"/cancel", map[string]string{"request_id": o.reqID})
	case "history":
		q := url.Values{"size": {"1000"}}
		if o.stale {
			q.Set("consistency", "stale")
		}
		if o.detail {
			q.Set("detail", "1")
		}
		return clusterShow(ctx, e, o, http.MethodGet, "/cluster/v1/cases/"+url.PathEscape(args[1])+"/history?"+q.Encode(), nil)
	default: // get
		path := "/cluster/v1/cases/" + args[1]
		if o.stale {
			path += "?consistency=stale"
		}
		return clusterShow(ctx, e, o, http.MethodGet, path, nil)
	}
}

// clusterShow makes one call, retrying while the cluster answers that it
// may be retried (no leader yet, an unknown outcome), and prints the
// answer.
func clusterShow(ctx context.Context, e *env, o *clusterOptions, method, path string, body any) int {
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	code, resp, err := clusterRetry(ctx, method, o.server, path, b)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	if code != http.StatusOK {
		fmt.Fprintf(e.stderr, "knhk: %s\n", errorText(resp))
		return exitUser
	}
	fmt.Fprintln(e.stdout, strings.TrimSpace(resp))
	return exitOK
}

// clusterRetry makes one call to the API at server, again every 250ms
// while the cluster answers that it may be retried (no leader yet, an
// unknown outcome) and ctx lasts, and returns the last answer.
func clusterRetry(ctx context.Context, method, server, path string, body []byte) (int, string, error) {
	for {
		code, resp, err := clusterCall(ctx, method, server, path, body)
		if err != nil || code != http.StatusServiceUnavailable || !retryable(resp) {
			return code, resp, err
		}
		select {
		case <-ctx.Done():
			return code, resp, nil
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func retryable(resp string) bool {
	var ce struct {
		Retry bool `json:"retry"`
	}
	return json.Unmarshal([]byte(resp), &ce) == nil && ce.Retry
}

func errorText(resp string) string {
	var ce struct {
		Error string `json:"error"`
	}
	if json.Unmarshal([]byte(resp), &ce) == nil && ce.Error != "" {
		return ce.Error
	}
	return strings.TrimSpace(resp)
}

// clusterCall makes one HTTP call to the API at base with the CLI's
// bearer token, if any, and returns the status and the body (for a
// failed call, JSON that errorText reads).
func clusterCall(ctx context.Context, method, base, path string, body []byte) (int, string, error) {
	tok, err := bearerToken() // a node behind --token-file (credentials.go)
	if err != nil {
		tok = ""
	}
	return nodeCall(ctx, http.DefaultClient, method, base, path, body, tok)
}

func clusterGetStatus(ctx context.Context, server string) (*cluster.Status, error) {
	code, resp, err := clusterCall(ctx, http.MethodGet, server, cluster.StatusPath, nil)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("%s", errorText(resp))
	}
	var st cluster.Status
	if err := json.Unmarshal([]byte(resp), &st); err != nil {
		return nil, fmt.Errorf("bad status from %s: %v", server, err)
	}
	return &st, nil
}

func clusterStatus(ctx context.Context, e *env, o *clusterOptions) int {
	st, err := clusterGetStatus(ctx, o.server)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	if o.json {
		b, _ := json.MarshalIndent(st, "", "  ")
		fmt.Fprintln(e.stdout, string(b))
		return exitOK
	}
	fmt.Fprintf(e.stdout, "node %s is %s; leader %s; term %s; applied %d of %d committed; program %.12s\n",
		st.Node, st.State, orNone(st.Leader), st.Term, st.Applied, st.Commit, st.Program)
	if len(st.Members) == 0 {
		return exitOK // a CometBFT validator: no raft members
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSUFFRAGE\tRAFT\tAPI\tREGION\tLEADER")
	for _, m := range st.Members {
		lead := ""
		if m.Leader {
			lead = "*"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.Suffrage, m.Raft, orNone(m.API), orNone(m.Region()), lead)
	}
	tw.Flush()
	if st.Warning != "" {
		fmt.Fprintf(e.stdout, "warning: %s\n", st.Warning)
	}
	if st.Broken != "" {
		fmt.Fprintf(e.stdout, "broken: %s\n", st.Broken)
	}
	return exitOK
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func clusterAdd(ctx context.Context, e *env, o *clusterOptions, id, raft string) int {
	labels, err := cluster.ParseLabels(o.labels)
	if err != nil {
		return usageError(e, "--labels: %v", err)
	}
	// The operator vouches for the node's program: it joins with the
	// cluster's, and its own FSM refuses a log of another.
	st, err := clusterGetStatus(ctx, o.server)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	req := server.ClusterJoinRequest{Member: cluster.Member{ID: id, Raft: raft, API: o.api, Labels: labels}, Program: st.Program}
	return clusterShow(ctx, e, o, http.MethodPost, "/cluster/v1/members", req)
}
