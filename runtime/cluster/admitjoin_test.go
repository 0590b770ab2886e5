package cluster

import (
	"errors"
	"fmt"
	"testing"
)

var errFull = errors.New("cluster full")

// TestAdmitJoin: the leader asks Config.AdmitJoin before a node joins,
// with the size the cluster would have, and a refusal leaves the
// cluster as it was.
func TestAdmitJoin(t *testing.T) {
	c := newTestCluster(t, compile(t, testSource))
	var asked []int
	admit := func(cfg *Config) {
		cfg.AdmitJoin = func(n int) error {
			asked = append(asked, n)
			if n > 2 {
				return fmt.Errorf("%w: %d nodes", errFull, n)
			}
			return nil
		}
	}
	c.add("n1", nil, admit)
	l := c.leader()
	c.join("n2", nil)
	n3 := c.add("n3", nil, admit)
	err := l.Join(ctx(t), Member{ID: "n3", Raft: "n3", API: "api-n3"}, n3.ProgramHash())
	if !errors.Is(err, errFull) {
		t.Fatalf("third node joined: %v", err)
	}
	// A retried join of a member is no new node.
	if err := l.Join(ctx(t), Member{ID: "n2", Raft: "n2", API: "api-n2"}, n3.ProgramHash()); err != nil {
		t.Fatalf("retried join: %v", err)
	}
	if fmt.Sprint(asked) != "[2 3]" {
		t.Errorf("AdmitJoin asked %v, want [2 3]", asked)
	}
	cf := l.r.GetConfiguration()
	if err := cf.Error(); err != nil || len(cf.Configuration().Servers) != 2 {
		t.Errorf("configuration %v %v, want two servers", cf.Configuration().Servers, err)
	}
}
