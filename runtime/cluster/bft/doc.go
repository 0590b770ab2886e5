// Package bft runs the engine as a CometBFT (v0.38) ABCI application,
// for deployments that must tolerate replicas that lie (f < n/3 of the
// validators' voting power), not only replicas that crash.
//
// Transactions are the cluster's commands (cluster.Command, with their
// checksum, program hash, case position and request id). Every
// validator's [App] applies the transactions of a committed block
// through the same FSM as the raft mode, so through
// engine.Machine.Apply, and answers the SHA-256 of its whole state as
// the block's application hash. CometBFT puts that hash in the header
// of the next block, which more than two thirds of the voting power
// sign: the commit of block H+1 is the certificate that the cases
// advanced as block H says. A replica whose state differs (a lying or
// corrupt application) computes another hash, refuses the blocks the
// others commit, and halts; it cannot make the others accept a
// different history.
//
// The engine that decides events (timers, task calls, their results)
// runs beside one node and proposes its events as transactions through
// [Log]; the validators check each event against the case's state and
// position, so a driver cannot make a transition the net does not
// allow, but the results it reports are trusted as a task's results
// always are.
package bft
