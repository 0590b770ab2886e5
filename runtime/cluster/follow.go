// This file implements a group that follows another's membership: a
// tenant's raft group (knhk serve --node --tenants) runs on the nodes of
// the cluster's own group, so that every node serves every tenant. Its
// leader adds the nodes that join the cluster (as non-voters, promoted
// by placement once caught up, as a join of the cluster is) and removes
// those the cluster removed, one change at a time.

package cluster

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// Follow keeps n's members those of parent until ctx ends: while n
// leads, each tick it makes at most one change, joining a member of
// parent that n lacks (with parent's record of it: its raft and API
// addresses and labels) or removing one that parent removed. Nodes of
// one cluster share their raft addresses among groups (see GroupMux),
// so a member's raft address is the same in both.
func (n *Node) Follow(ctx context.Context, parent *Node) {
	t := time.NewTicker(n.cfg.Timing.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.stop:
			return
		case <-t.C:
		}
		if !n.IsLeader() {
			continue
		}
		if err := n.followOnce(ctx, parent); err != nil {
			fmt.Fprintf(n.cfg.LogOutput, "cluster %s: following the cluster's members: %v\n", n.cfg.ID, err)
		}
	}
}

// followOnce makes at most one change toward parent's members.
func (n *Node) followOnce(ctx context.Context, parent *Node) error {
	pcf := parent.r.GetConfiguration()
	if err := pcf.Error(); err != nil {
		return err
	}
	cf := n.r.GetConfiguration()
	if err := cf.Error(); err != nil {
		return err
	}
	in := map[string]raft.Server{}
	for _, s := range cf.Configuration().Servers {
		in[string(s.ID)] = s
	}
	pm := parent.fsm.Members()
	mine := n.fsm.Members()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, s := range pcf.Configuration().Servers {
		m, ok := pm[string(s.ID)]
		if !ok {
			m = Member{ID: string(s.ID), Raft: string(s.Address)}
		}
		if m.Remove {
			continue
		}
		have, recorded := mine[m.ID]
		if _, ok := in[m.ID]; ok && recorded && sameMember(have, m) {
			continue
		}
		if string(s.ID) == n.cfg.ID {
			continue // the leader records itself (tend)
		}
		return n.Join(ctx, m, n.hash)
	}
	for id := range in {
		if m, ok := pm[id]; ok && m.Remove && id != n.cfg.ID {
			return n.Remove(ctx, id)
		}
	}
	return nil
}
