package server

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/runtime/cluster/bft"
)

// connectAnswer calls procedure over Connect JSON as a client that
// accepts gzip and reports whether the answer came compressed and how
// many bytes it took on the wire.
func connectAnswer(t *testing.T, url, procedure, body string) (gzipped bool, size int) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+procedure, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	// Set by hand, so that the transport hands the body over as it came.
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", procedure, resp.StatusCode, b)
	}
	return resp.Header.Get("Content-Encoding") == "gzip", len(b)
}

// checkCompressMin: a small answer comes uncompressed to a client that
// accepts gzip, a listing past compressMinBytes compressed.
func checkCompressMin(t *testing.T, url, id string) {
	t.Helper()
	if gz, n := connectAnswer(t, url, knhkv1connect.KnhkServiceGetCaseProcedure, fmt.Sprintf(`{"caseId":%q}`, id)); gz {
		t.Errorf("GetCase: an answer of %d bytes was gzipped", n)
	}
	if gz, n := connectAnswer(t, url, knhkv1connect.KnhkServiceListCasesProcedure, `{"pageSize":1000}`); !gz {
		t.Errorf("ListCases: an answer of %d bytes was not gzipped", n)
	}
}

// longID is the id of case i, long enough that 40 cases' listing passes
// compressMinBytes.
func longID(i int) string { return fmt.Sprintf("case-%03d-%s", i, strings.Repeat("x", 100)) }

// TestClusterCompressMin: a raft node's Connect API gzips an answer
// only from compressMinBytes on, as a single server's does.
func TestClusterCompressMin(t *testing.T) {
	nodes := apiCluster(t)
	leader := nodes["n1"]
	for i := range 40 {
		body := fmt.Sprintf(`{"id":%q,"workflow":"Hold","input":"c","request_id":"r%d"}`, longID(i), i)
		if code, out := call(t, http.MethodPost, leader.srv.URL+"/cluster/v1/cases", []byte(body)); code != http.StatusOK {
			t.Fatalf("start %d: %d %s", i, code, out)
		}
	}
	checkCompressMin(t, leader.srv.URL, longID(0))
}

// TestBFTCompressMin: so does a validator's.
func TestBFTCompressMin(t *testing.T) {
	drv := ed25519.GenPrivKey()
	c := newBFTChain(t, drv)
	txs := [][]byte{c.tx(drv, &bft.Tx{Kind: bft.KindLease, Term: 1, API: "http://127.0.0.1:1"})}
	for i := range 40 {
		txs = append(txs, c.start(drv, longID(i)))
	}
	c.block(nil, txs...)
	srv := httptest.NewServer(NewBFTAPI("v1", c.app, nil, c.app.Height, c.prog))
	defer srv.Close()
	checkCompressMin(t, srv.URL, longID(0))
}
