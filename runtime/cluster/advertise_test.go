// This file tests Config.Advertise: the raft address the other nodes
// dial when a proxy or NAT stands in front of the node.

package cluster

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/worker"
)

func TestAdvertisedRaftAddress(t *testing.T) {
	prog := compile(t, testSource)
	cfg := func(adv string, tc *tls.Config) Config {
		return Config{ID: "n1", Raft: "127.0.0.1:0", Advertise: adv, TLS: tc, Bootstrap: true, Program: prog, Eval: &host.Evaluator{},
			Worker: worker.New(prog, worker.Options{}), Timing: fastTiming}
	}
	n, err := NewNode(cfg("127.0.0.1:7399", nil))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	waitFor(t, "n1 to lead", n.IsLeader)
	st, err := n.Status()
	if err != nil {
		t.Fatal(err)
	}
	if n.RaftAddr() != "127.0.0.1:7399" || len(st.Members) != 1 || st.Members[0].Raft != "127.0.0.1:7399" {
		t.Fatalf("advertised 127.0.0.1:7399, the node says %s, its configuration %+v", n.RaftAddr(), st.Members)
	}
	for adv, want := range map[string]string{
		"127.0.0.1:7398": "not supported with TLS",
		"127.0.0.1":      "advertised raft address \"127.0.0.1\"",
	} {
		var tc *tls.Config
		if strings.Contains(want, "TLS") {
			tc = &tls.Config{}
		}
		if _, err := NewNode(cfg(adv, tc)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("advertise %s: %v, want an error saying %q", adv, err, want)
		}
	}
}
