// This file tests a raft cluster whose nodes serve their API over TLS
// behind a bearer token (knhk serve --node --tls-cert --tls-key
// --token-file), as processes: the CLI with KNHK_TOKEN starts, signals
// and reads a case through a follower, which forwards to the leader
// over TLS with the caller's token; a call without it is refused.

package main

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestClusterTLSAndToken(t *testing.T) {
	const token = clusterToken
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.knhk"), []byte(clusterSource), 0o666); err != nil {
		t.Fatal(err)
	}
	// One certificate for every node (127.0.0.1), which each node also
	// trusts for the others: its --tls-cert file.
	cert := writeNodeCertAndToken(t, dir)
	// The single-node checks of --token-file, with the same messages.
	if code, _, errb := knhkProc(t, dir, "serve", "--node", "x", "--raft", "127.0.0.1:0", "--token-file", "nope.txt", "app.knhk"); code != 1 || errb != "knhk: token file nope.txt: no such file or directory\n" {
		t.Fatalf("a missing token file: %d %q", code, errb)
	}
	if code, _, errb := knhkProc(t, dir, "serve", "--node", "x", "--raft", "127.0.0.1:0", "--tls-cert", "node.pem", "app.knhk"); code != 1 || !strings.Contains(errb, "give --tls-cert and --tls-key together") {
		t.Fatalf("--tls-cert alone: %d %q", code, errb)
	}

	procs := map[string]*serveProc{}
	defer func() {
		for _, p := range procs {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	}()
	node := func(id, join string) *serveProc {
		args := []string{"--node", id, "--raft", "127.0.0.1:0", "--tls-cert", "node.pem", "--tls-key", "node.key", "--token-file", "token", "app.knhk"}
		if join != "" {
			args = append(args, "--join", join)
		}
		p := startServe(t, dir, "d-"+id, args...)
		procs[id] = p
		return p
	}
	// The nodes join and probe each other with the token, over TLS,
	// before the CLI's environment below exists.
	n1 := node("n1", "")
	if !strings.HasPrefix(n1.url, "https://") {
		t.Fatalf("a node with --tls-cert listens on %s", n1.url)
	}
	n2 := node("n2", n1.url)
	n3 := node("n3", n1.url)

	// The CLI trusts the certificate as any Go program does, and takes
	// its token from KNHK_TOKEN (credentials.go).
	t.Setenv("SSL_CERT_FILE", filepath.Join(dir, "node.pem"))
	t.Setenv("KNHK_TOKEN", token)
	waitUntil(t, "three voters", func() bool {
		st, ok := clusterStatusOf(t, dir, n3.url)
		if !ok {
			return false
		}
		return voters(st) == 3 && st.Leader == "n1"
	})

	// Without the token (or with another) every route but the probes is
	// refused with 401, as by a single knhk serve.
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for _, tok := range []string{"", "wrong"} {
		for _, path := range []string{"/cluster/v1/status", "/cluster/v1/cases", "/metrics", "/console/api/case?id=x"} {
			req, _ := http.NewRequest("GET", n2.url+path, nil)
			if tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
				t.Fatalf("GET %s with token %q: %d", path, tok, resp.StatusCode)
			}
		}
	}
	resp, err := c.Get(n2.url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/healthz without a token: %v %v", resp, err)
	}
	resp.Body.Close()
	t.Setenv("KNHK_TOKEN", "wrong")
	if code, _, errb := knhkProc(t, dir, "run", "--server", n3.url, "app.knhk", "--input-json", `"c0"`); code == 0 || !strings.Contains(errb, "missing or wrong bearer token") {
		t.Fatalf("run --server with a wrong token: exit %d\n%s", code, errb)
	}
	t.Setenv("KNHK_TOKEN", token)

	// Through followers: start (forwarded), signal, history.
	code, _, errb := knhkProc(t, dir, "run", "--server", n3.url, "app.knhk", "--input-json", `"c2"`)
	m := regexp.MustCompile(`case (\S+)`).FindStringSubmatch(errb)
	if code != 0 || m == nil || !strings.Contains(errb, "waiting for signal Approve") {
		t.Fatalf("run --server through a follower: exit %d\n%s", code, errb)
	}
	code, out, errb := knhkProc(t, dir, "signal", "--server", n2.url, m[1], "Approve", `{"by":"bob"}`)
	if code != 0 || strings.TrimSpace(out) != `"c2 by bob"` {
		t.Fatalf("signal --server through a follower: exit %d\n%s%s", code, out, errb)
	}
	code, out, errb = knhkProc(t, dir, "history", "--server", n3.url, "--detail", m[1])
	if code != 0 || !strings.Contains(out, " start Hold") || !strings.Contains(out, " signal Approve") {
		t.Fatalf("history --server through a follower: exit %d\n%s%s", code, out, errb)
	}
	// knhk cluster's own HTTP calls carry the token too.
	if code, _, errb := knhkProc(t, dir, "cluster", "--server", n2.url, "start", "c1", "--workflow", "Hold", "--input", `"c1"`); code != 0 {
		t.Fatalf("cluster start through a follower: %s", errb)
	}
	if code, out, errb := knhkProc(t, dir, "cluster", "--server", n3.url, "get", "c1"); code != 0 || !strings.Contains(out, `"running"`) {
		t.Fatalf("cluster get: exit %d\n%s%s", code, out, errb)
	}
}

const clusterToken = "s3cret-cluster-token"

// writeNodeCertAndToken writes dir/node.pem and node.key, one
// self-signed certificate for 127.0.0.1 that every node serves and
// trusts, and dir/token holding clusterToken.
func writeNodeCertAndToken(t *testing.T, dir string) *x509.Certificate {
	t.Helper()
	cert, _ := writeCert(t, dir, "node", &x509.Certificate{IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, nil, nil)
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(clusterToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert
}
