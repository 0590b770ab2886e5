// This file implements knhk audit export --cosign: the CLI asks other
// nodes of a cluster (validators of a CometBFT chain, whose APIs the
// exporting validator does not know) to sign the tree head of the
// export it fetched, each from its own copy of the chain, and adds
// their heads to the report, so that knhk audit verify --signers N can
// insist on N of them.

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/server/tenant"
)

// cosignExport returns b, a cluster's export (JSON), with the tree heads
// that the nodes at urls signed of its tree (ClusterTreeHeadPath, with
// the CLI's bearer token: the nodes' token), written in format. A node
// that does not sign that very tree (it lags, holds another chain, or
// refuses the token) fails the export: the user asked for its word.
func cosignExport(e *env, b []byte, urls []string, format string) ([]byte, int) {
	ev, err := audit.DecodeEvidence(b)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: --cosign: the export: %v\n", err)
		return nil, exitUser
	}
	if ev.Tree == nil {
		fmt.Fprintln(e.stderr, "knhk: --cosign: the export has no tree head (it is not a cluster's chain)")
		return nil, exitUser
	}
	tok, err := bearerToken()
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: the bearer token file: %v\n", err)
		return nil, exitUser
	}
	body, _ := json.Marshal(tenant.ClusterCosignRequest{Size: ev.Tree.Head.Size, Root: ev.Tree.Head.Root})
	for _, u := range urls {
		h, err := askCosign(u, tok, body, ev.Tree.Head)
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: --cosign %s: %v\n", u, err)
			return nil, exitUser
		}
		fmt.Fprintf(e.stderr, "knhk: node %s cosigned the tree of %d records\n", h.Node, h.Size)
		if !slices.ContainsFunc(ev.Tree.Cosigned, func(c audit.TreeHead) bool { return c.Node == h.Node }) && h.Node != ev.Tree.Head.Node {
			// A raft node's export may hold its head already.
			ev.Tree.Cosigned = append(ev.Tree.Cosigned, *h)
		}
	}
	var buf bytes.Buffer
	if err := audit.Write(&buf, ev, format); err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return nil, exitUser
	}
	return buf.Bytes(), exitOK
}

// askCosign asks the node at srv to sign want's tree.
func askCosign(srv, tok string, body []byte, want audit.TreeHead) (*audit.TreeHead, error) {
	if !strings.Contains(srv, "://") {
		srv = "http://" + srv
	}
	req, err := http.NewRequest(http.MethodPost, strings.TrimRight(srv, "/")+tenant.ClusterTreeHeadPath, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := nonceClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("unavailable: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%d %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	h, _, err := tenant.CheckCosigned(b, want)
	return h, err
}
