// Package cluster runs the engine as a replicated state machine on
// github.com/hashicorp/raft, with github.com/hashicorp/raft-wal as the
// log and stable store.
//
// The seam is the engine's [engine.EventLog]: on the leader, appending
// an event proposes a [Command] that names the case, the position the
// event takes in the case's history and a request id, and waits for it
// to commit. Every replica's [FSM] folds committed commands into its
// copy of each case with [engine.Machine.Apply], which reads no clock,
// no randomness and does no I/O: the time, the chosen arcs, the task
// results and the policy's choices are in the event already, because
// the leader's engine decided them before it proposed the event. So
// every replica holds the same states, and raft's snapshots are the
// engine's own case snapshots ([engine.Machine.EncodeState]).
//
// Only the leader runs an [engine.Engine]: it fires timers, hands out
// task calls and commits their outcomes through the log. When a node
// becomes leader it waits for its FSM to apply everything committed
// (a barrier), then recovers every case that has not ended from its
// FSM and runs it on; calls in flight under the old leader are invoked
// again with the same idempotency keys (at-least-once, as after a
// crash of a single node). A node that loses leadership stops its
// engine; what it had not committed is gone, and the new leader goes on
// from what was.
//
// A command carries the position of its event (the number of events of
// the case before it). The FSM refuses an event at any other position,
// so a deposed leader that still proposes cannot fork a case's history,
// and an event is never applied twice. Client commands (start, signal,
// cancel) carry a request id that the FSM remembers: a retry after an
// ambiguous failure ([raft.ErrLeadershipLost] may or may not have
// committed) answers what the first attempt did instead of acting
// again.
//
// Reads are linearizable by default: the leader confirms it still leads
// ([raft.Raft.VerifyLeader]) and reads its FSM, which holds every
// acknowledged write. A follower's local read is stale; it is offered
// only when asked for, and says how stale (time since it last heard
// from the leader, and how many committed entries it has not applied).
//
// Membership changes one server at a time: a node joins as a non-voter,
// and the leader promotes it to voter once it has caught up, keeping at
// most a minority of the voters in any one region (see placement.go),
// so that losing a region never loses the quorum.
//
// Several groups may run on the same nodes (knhk serve --node
// --tenants: one per tenant): a [GroupMux] shares a node's raft listener
// among them, [Node.Follow] keeps a group's members those of the
// cluster's own group, a [LicenseGate] has a group's leader decide a
// licence's limits from its FSM before it proposes, and [FSM.Usage] and
// [Meter] count a month's usage from the committed log, the same on
// every replica.
//
// Package bft (runtime/cluster/bft) runs the same FSM as a CometBFT
// application, for validators that may lie rather than only crash.
package cluster
