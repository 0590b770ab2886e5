// This file implements membership: joining as a non-voter, promotion
// and demotion by placement one change at a time, removal, and the
// cluster's status.

package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/hashicorp/raft"
)

// ErrIDInUse is returned when a node joins with an id the cluster knows
// for another node, or that was removed (ids are never reused).
var ErrIDInUse = errors.New("node id in use")

// catchUpSlack is how many entries a non-voter may trail the leader's
// applied index and still count as caught up.
const catchUpSlack = 64

// Join adds m to the cluster as a non-voter; the leader promotes it to
// voter once it has caught up (see Place). program is the hash of the
// program the joining node runs, which must be the cluster's. Joining
// again with the same id and address is a no-op.
func (n *Node) Join(ctx context.Context, m Member, program string) error {
	_, err := n.leader()
	if err != nil {
		return err
	}
	if program != n.hash {
		return fmt.Errorf("%w: node %s runs program %s, the cluster runs %s", ErrProgram, m.ID, short(program), short(n.hash))
	}
	if m.ID == "" || m.Raft == "" {
		return fmt.Errorf("a joining node needs an id and a raft address")
	}
	cf := n.r.GetConfiguration()
	if err := cf.Error(); err != nil {
		return n.raftErr(err)
	}
	for _, s := range cf.Configuration().Servers {
		switch {
		case string(s.ID) == m.ID && string(s.Address) != m.Raft:
			return fmt.Errorf("%w: %s is the id of the node at %s", ErrIDInUse, m.ID, s.Address)
		case string(s.ID) != m.ID && string(s.Address) == m.Raft:
			return fmt.Errorf("raft address %s is node %s's", m.Raft, s.ID)
		}
	}
	if old, ok := n.fsm.Members()[m.ID]; ok && old.Remove {
		return fmt.Errorf("%w: node %s was removed from the cluster; a new node needs a new id", ErrIDInUse, m.ID)
	}
	m.Remove = false
	if _, err := n.propose(ctx, &Command{Op: OpMember, Program: n.hash, Member: &m}); err != nil {
		return err
	}
	for _, s := range cf.Configuration().Servers {
		if string(s.ID) == m.ID {
			return nil // already in: a retried join
		}
	}
	if n.cfg.AdmitJoin != nil {
		if err := n.cfg.AdmitJoin(len(cf.Configuration().Servers) + 1); err != nil {
			return err
		}
	}
	if err := n.r.AddNonvoter(raft.ServerID(m.ID), raft.ServerAddress(m.Raft), 0, timeoutOf(ctx)).Error(); err != nil {
		return n.raftErr(err)
	}

	return nil
}

// Remove takes node id out of the cluster. Its id is remembered and
// never accepted again.
func (n *Node) Remove(ctx context.Context, id string) error {
	if _, err := n.leader(); err != nil {
		return err
	}
	m, ok := n.fsm.Members()[id]
	if !ok {
		m = Member{ID: id}
	}
	m.Remove = true
	if _, err := n.propose(ctx, &Command{Op: OpMember, Program: n.hash, Member: &m}); err != nil {
		return err
	}
	if err := n.r.RemoveServer(raft.ServerID(id), 0, timeoutOf(ctx)).Error(); err != nil {
		return n.raftErr(err)
	}
	return nil
}

func timeoutOf(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return max(time.Until(d), time.Millisecond)
	}
	return 10 * time.Second
}

// rebalance makes at most one change of suffrage toward Place's voters:
// a promotion first, else a demotion.
func (n *Node) rebalance(ctx context.Context) error {
	cf := n.r.GetConfiguration()
	if err := cf.Error(); err != nil {
		return err
	}
	servers := cf.Configuration().Servers
	members := n.fsm.Members()
	applied := n.r.AppliedIndex()
	var cands []Candidate
	for _, s := range servers {
		m := members[string(s.ID)]
		c := Candidate{ID: string(s.ID), Region: m.Region(), Voter: s.Suffrage == raft.Voter, Leader: string(s.ID) == n.cfg.ID}
		c.CaughtUp = c.Voter || c.Leader
		if !c.CaughtUp && m.ID != "" {
			if a, err := n.prober().Applied(ctx, m); err == nil && a+catchUpSlack >= applied {
				c.CaughtUp = true
			}
		}
		cands = append(cands, c)
	}
	want, warning := Place(cands, n.cfg.Voters)
	n.mu.Lock()
	n.warning = warning
	n.mu.Unlock()
	for _, s := range servers {
		if s.Suffrage != raft.Voter && slices.Contains(want, string(s.ID)) {
			return n.r.AddVoter(s.ID, s.Address, cf.Index(), timeoutOf(ctx)).Error()
		}
	}
	for _, s := range servers {
		if s.Suffrage == raft.Voter && string(s.ID) != n.cfg.ID && !slices.Contains(want, string(s.ID)) {
			return n.r.DemoteVoter(s.ID, cf.Index(), timeoutOf(ctx)).Error()
		}
	}
	return nil
}

func (n *Node) prober() Prober {
	if n.cfg.Prober != nil {
		return n.cfg.Prober
	}
	return httpProber{}
}

// StatusPath is where a node's HTTP API serves its [Status] as JSON.
const StatusPath = "/cluster/v1/status"

// httpProber asks a member's API for its status.
type httpProber struct{}

func (p httpProber) Applied(ctx context.Context, m Member) (uint64, error) {
	st, err := p.Status(ctx, m)
	if err != nil {
		return 0, err
	}
	return st.Applied, nil
}

// Status reads member m's own status.
func (httpProber) Status(ctx context.Context, m Member) (*Status, error) {
	if m.API == "" {
		return nil, fmt.Errorf("member %s has no API address", m.ID)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiURL(m.API)+StatusPath+"?local=1", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var st Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, err
	}
	return &st, nil
}

// apiURL turns an address into a URL, keeping one that is a URL.
func apiURL(addr string) string {
	if len(addr) > 7 && (addr[:7] == "http://" || (len(addr) > 8 && addr[:8] == "https://")) {
		return addr
	}
	return "http://" + addr
}

// Status is what a node knows of the cluster.
type Status struct {
	Node    string         `json:"node"`
	State   string         `json:"state"` // Leader, Follower, Candidate, Shutdown
	Leader  string         `json:"leader,omitempty"`
	Term    string         `json:"term"`
	Applied uint64         `json:"applied"`
	Commit  uint64         `json:"commit"`
	Program string         `json:"program"`
	Members []MemberStatus `json:"members"`
	// Warning says why the voters' placement is not region-safe.
	Warning string `json:"warning,omitempty"`
	// Broken says why this node stopped applying the log.
	Broken string `json:"broken,omitempty"`
	// Shredding counts the erased cases whose key this node has not
	// destroyed yet (erase.go).
	Shredding int `json:"shredding,omitempty"`
}

// MemberStatus is one member in a [Status].
type MemberStatus struct {
	Member
	Suffrage string `json:"suffrage"` // Voter, Nonvoter
	Leader   bool   `json:"leader,omitempty"`
}

// Status returns the node's view of the cluster.
func (n *Node) Status() (*Status, error) {
	_, lid := n.r.LeaderWithID()
	st := &Status{Node: n.cfg.ID, State: n.r.State().String(), Leader: string(lid), Term: n.r.Stats()["term"],
		Applied: n.r.AppliedIndex(), Commit: n.r.CommitIndex(), Program: n.hash}
	if err := n.fsm.Broken(); err != nil {
		st.Broken = err.Error()
	}
	st.Shredding = n.shred.count()
	n.mu.Lock()
	st.Warning = n.warning
	n.mu.Unlock()
	cf := n.r.GetConfiguration()
	if err := cf.Error(); err != nil {
		return nil, err
	}
	members := n.fsm.Members()
	for _, s := range cf.Configuration().Servers {
		m := members[string(s.ID)]
		m.ID, m.Raft = string(s.ID), string(s.Address)
		st.Members = append(st.Members, MemberStatus{Member: m, Suffrage: s.Suffrage.String(), Leader: s.ID == lid})
	}
	slices.SortFunc(st.Members, func(a, b MemberStatus) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return st, nil
}
