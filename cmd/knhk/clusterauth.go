// This file implements the TLS and bearer token of a cluster node's API
// (knhk serve --node --tls-cert F --tls-key F --token-file F): what the
// node serves with, and how it calls the other nodes (a join, a probe,
// a call a follower forwards to the leader).

package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"

	"github.com/knhk/knhk/server"
)

// clusterAPISecurity reads --token-file as a single knhk serve does and
// picks the certificates a node trusts for the other nodes' APIs: the
// system's roots and every certificate in its own --tls-cert file. So
// nodes that share one certificate (with every node's name), or whose
// --tls-cert files end with the CA that issued them all, trust each
// other with no further flag. On failure ok is false, the error written.
func clusterAPISecurity(e *env, o *serveOptions) (server.ClusterSecurity, bool) {
	token, ok := readTokenFile(e, o.tokenFile) // tokenfile.go
	if !ok {
		return server.ClusterSecurity{}, false
	}
	sec := server.ClusterSecurity{Token: token}
	if o.cert == "" {
		return sec, true
	}
	pemBytes, err := os.ReadFile(o.cert)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: --tls-cert %s: %v\n", o.cert, unwrapPathError(err))
		return sec, false
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pemBytes) {
		fmt.Fprintf(e.stderr, "knhk: --tls-cert %s: no PEM certificate in it\n", o.cert)
		return sec, false
	}
	sec.RootCAs = pool
	return sec, true
}

// listenNodeAPI listens on --listen for a node's API and returns the
// URL the other nodes reach it at: https with --tls-cert.
func listenNodeAPI(o *serveOptions) (net.Listener, string, error) {
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return nil, "", err
	}
	scheme := "http://"
	if o.cert != "" {
		scheme = "https://"
	}
	return ln, scheme + ln.Addr().String(), nil
}

// nodeCall makes one HTTP call to path of the node API at base with
// client c, and token as the bearer unless it is empty, and returns the
// status and the body.
func nodeCall(ctx context.Context, c *http.Client, method, base, path string, body []byte, token string) (int, string, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, apiURL(base)+path, r)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return 0, "", err
	}
	return resp.StatusCode, string(b), nil
}
