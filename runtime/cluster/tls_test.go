package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/worker"
)

// testCA issues certificates for 127.0.0.1.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(t *testing.T) *testCA {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "knhk test ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// config returns a mutual-TLS config with a fresh certificate.
func (ca *testCA) config(t *testing.T, name string) *tls.Config {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, RootCAs: ca.pool, ClientCAs: ca.pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS13}
}

// TestTLSClusterOnDisk runs three nodes over mutual TLS on loopback with
// their logs in raft-wal, restarts a follower from its directory, and
// checks that a peer with a certificate of another CA is refused.
func TestTLSClusterOnDisk(t *testing.T) {
	ca := newCA(t)
	prog := compile(t, testSource)
	fx := &effects{calls: map[string]int{}}
	var probe *nodesProber
	dirs := map[string]string{}
	addrs := map[string]string{}
	open := func(id, addr string, boot bool) *Node {
		if dirs[id] == "" {
			dirs[id] = t.TempDir()
		}
		n, err := NewNode(Config{ID: id, Raft: addr, API: "api-" + id, Dir: dirs[id], Bootstrap: boot, Program: prog, Eval: &host.Evaluator{},
			Worker: worker.New(prog, worker.Options{Registry: fx.registry()}), TLS: ca.config(t, id), Timing: tlsTiming, Prober: probe})
		if err != nil {
			t.Fatal(err)
		}
		addrs[id] = n.raftAddr()
		return n
	}
	nodes := map[string]*Node{}
	probe = &nodesProber{m: map[string]*Node{}}
	defer func() {
		for _, n := range nodes {
			n.Close()
		}
	}()
	nodes["n1"] = open("n1", "127.0.0.1:0", true)
	waitFor(t, "n1 to lead", nodes["n1"].IsLeader)
	for _, id := range []string{"n2", "n3"} {
		nodes[id] = open(id, "127.0.0.1:0", false)
		probe.set(id, nodes[id])
		var err error
		waitFor(t, id+" to join", func() bool {
			err = leaderOf(nodes).Join(ctx(t), Member{ID: id, Raft: addrs[id]}, nodes[id].ProgramHash())
			return !errors.Is(err, ErrNotLeader)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "three voters", func() bool { return len(voters(leaderOf(nodes))) == 3 })
	l := leaderOf(nodes)
	f := "n3"
	if l.ID() == f {
		f = "n2"
	}
	if err := l.Start(ctx(t), "", "t1", "W", []any{"t1"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "t1 to wait", func() bool { return fx.count("t1/2") == 1 })
	if err := nodes[f].Close(); err != nil {
		t.Fatal(err)
	}
	delete(nodes, f)
	if err := l.Signal(ctx(t), "", "t1", "Go", []any{int64(2)}); err != nil {
		t.Fatal(err)
	}
	completed(t, l, "t1")
	// The follower comes back from its directory and catches up.
	nodes[f] = open(f, addrs[f], false)
	probe.set(f, nodes[f])
	completed(t, nodes[f], "t1")

	// A node whose certificate another CA signed cannot reach n1.
	rogue, err := NewTLSStreamLayer("127.0.0.1:0", newCA(t).config(t, "rogue"))
	if err != nil {
		t.Fatal(err)
	}
	defer rogue.Close()
	c, err := rogue.Dial(l.trans.LocalAddr(), time.Second)
	if err == nil {
		c.Close()
		t.Fatal("a peer with a foreign certificate completed a handshake")
	}
}

// tlsTiming is slower than fastTiming: TLS handshakes on a loaded
// machine (or under -race) outlast a 50ms lease.
var tlsTiming = Timing{Heartbeat: timingScale * 300 * time.Millisecond, Election: timingScale * 300 * time.Millisecond, Lease: timingScale * 150 * time.Millisecond,
	Commit: 5 * time.Millisecond, Tick: 20 * time.Millisecond}

// leaderOf returns the node of nodes that leads, or any node if none
// does yet (its calls then fail with ErrNotLeader).
func leaderOf(nodes map[string]*Node) *Node {
	var any *Node
	for _, id := range sortedKeys(nodes) {
		n := nodes[id]
		if n.IsLeader() {
			return n
		}
		any = n
	}
	return any
}

func voters(n *Node) []string {
	cf := n.r.GetConfiguration()
	if cf.Error() != nil {
		return nil
	}
	var out []string
	for _, s := range cf.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			out = append(out, string(s.ID))
		}
	}
	return out
}
